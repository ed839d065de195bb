"""Anchors: tree heads of the institutions' own logs (the intermediate servers' staff access
logs), signed by them and kept by the broker so that they cannot be taken back."""
