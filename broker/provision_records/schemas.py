"""Provision records as operators and residents see them."""

from datetime import datetime

from pydantic import BaseModel, Field

from broker.symbols.schemas import SymbolText


class ProvisionRecordOut(BaseModel):
    query_id: str
    requested_at: datetime
    requester_code: str
    provider_code: str
    procedure_code: str
    item_codes: list[str]
    provider_symbol: str | None
    whitelist_version: str
    whitelist_row: str | None
    outcome: str
    outcome_code: str
    latency_ms: int


class NamedCode(BaseModel):
    code: str
    name: str


class PersonalRecordOut(BaseModel):
    """What a resident sees in My Portal: names, not symbols."""

    query_id: str
    requested_at: datetime
    requester: NamedCode
    provider: NamedCode
    procedure: NamedCode
    items: list[NamedCode]
    outcome: str
    outcome_code: str
    leaf_index: int  # to ask the broker for this record's inclusion proof in the provision log


class PersonalRecordsRequest(BaseModel):
    symbol: SymbolText


class PersonalRecordsResponse(BaseModel):
    records: list[PersonalRecordOut]


class TreeHeadOut(BaseModel):
    """A signed tree head: Ed25519 by `key_id` over services.merkle.TreeHead.signed_message()."""

    tree_size: int
    root_hash: str  # base64
    timestamp: int  # ms since the epoch
    signature: str  # base64
    key_id: str


class LoggedRecord(BaseModel):
    """The fields a record's leaf covers (services.log_audit.PUBLIC_FIELDS): no serial, no symbol."""

    query_id: str
    requested_at: str
    requester_code: str
    provider_code: str
    procedure_code: str
    item_codes: list[str]
    whitelist_version: str
    whitelist_row: str | None
    outcome: str
    outcome_code: str
    latency_ms: int
    subject_commitment: str  # hex SHA-256 of [salt, person serial, provider symbol]


class SubjectOpening(BaseModel):
    """Opens a record's subject_commitment (services.log_audit.subject_commitment); operators only."""

    salt: str  # hex
    person_serial: str | None
    provider_symbol: str | None


class InclusionProofOut(BaseModel):
    leaf_index: int
    tree_size: int
    leaf_hash: str  # base64
    audit_path: list[str]  # base64, leaf to root
    record: LoggedRecord  # recompute the leaf from it
    opening: SubjectOpening | None = None  # operators only


class LogEntryOut(LoggedRecord):
    """One leaf of the log as the operator's auditor downloads it."""

    leaf_index: int
    leaf_hash: str  # base64


class LogEntriesOut(BaseModel):
    entries: list[LogEntryOut]


class PersonalInclusionRequest(BaseModel):
    symbol: SymbolText
    query_id: str = Field(min_length=1, max_length=32)
    tree_size: int | None = Field(default=None, ge=0)


class ConsistencyProofOut(BaseModel):
    first: int
    second: int
    proof: list[str]  # base64
