"""FGU 符号管理: the city's symbol for each person, tied to the internal address number."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from municipality.intermediate.models import Base
from services.db import UTCDateTime


class SymbolLink(Base):
    __tablename__ = "symbol_links"
    address_number: Mapped[str] = mapped_column(String(15), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), unique=True)
    obtained_at: Mapped[datetime] = mapped_column(UTCDateTime)
