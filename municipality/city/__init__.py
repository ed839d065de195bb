"""The city's own systems: resident registry (住民基本台帳), integrated address system
(団体内統合宛名システム) and individual resident tax (個人住民税)."""
