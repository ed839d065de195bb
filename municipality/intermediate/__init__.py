"""The intermediate server (中間サーバー), organised by the common-function codes:
symbols = FGU, copies = DBM, queries = SKI, provisions = TKY, staff + access_log = SCM."""
