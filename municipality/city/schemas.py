"""What every source system answers when it has recorded a batch and pushed its copies."""

from pydantic import BaseModel


class RecordedOut(BaseModel):
    recorded: int
    copies_registered: int
