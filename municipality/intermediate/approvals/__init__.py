"""SCM: privileged operations wait for the section chief's approval (承認), or the named deputy's."""
