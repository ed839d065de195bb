"""The shared kernel: what every mynumber-net service needs and none of them owns.

settings · db · keys · signing (RFC 9421) · directory (broker key registry client)
· http (the one outbound client) · problems (RFC 9457) · rbac · audit · app (common wiring)
"""
