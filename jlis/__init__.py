"""J-LIS (地方公共団体情報システム機構): individual numbers, acquisition numbers, card authentication."""
