"""What every row of a batch's result table shares, worked out once per page for
``templates/jinja2/customers/batch_rows.jinja``: the outcome labels in the page's language."""
from customers.models import BatchRow


def batch_rows_context() -> dict:
    return {"outcomes": {value: str(label) for value, label in BatchRow.Outcome.choices}}
