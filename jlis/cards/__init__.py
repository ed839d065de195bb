"""The individual number card (個人番号カード) and its certificates (公的個人認証, JPKI)."""
