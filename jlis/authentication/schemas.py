"""Login assertions J-LIS issues to My Portal."""

from pydantic import BaseModel

from jlis.numbers.schemas import IndividualNumberText


class TestLoginRequest(BaseModel):
    individual_number: IndividualNumberText


class LoginAssertion(BaseModel):
    assertion: str
    expires_in: int
