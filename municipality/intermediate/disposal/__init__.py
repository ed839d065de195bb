"""SYM: retention periods as data, and the approved disposal of what has outlived them."""
