"""What every row of a batch's result table shares, worked out once per page for
``templates/jinja2/customers/batch_rows.jinja``: the outcome labels in the page's language."""
from customers.models import BatchRow

# What a row of the result table is: these values of a ``BatchRow`` (the customer's are None
# for an id that names no customer).
BATCH_ROW_VALUES = ("customer_id", "customer__name", "customer__account_name", "outcome", "message")


def batch_rows_context() -> dict:
    return {"outcomes": {value: str(label) for value, label in BatchRow.Outcome.choices}}
