"""Login requests and sessions."""

from datetime import datetime

from pydantic import BaseModel, Field


class LoginRequest(BaseModel):
    assertion: str = Field(min_length=20, max_length=4000)


class SessionOut(BaseModel):
    session_token: str
    expires_at: datetime
