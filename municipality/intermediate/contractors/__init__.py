"""SCM: contractors (委託先) reading, through one endpoint, only the persons and items an approved
contract grant names, within its term; every attempt in the staff access log."""
