"""Every domain's models, imported so that ``Base.metadata`` is complete (Alembic, tests)."""

from app.accounts import models as accounts
from app.background import models as background
from app.catalog import models as catalog
from app.customers import models as customers
from app.db import Base
from app.fleet import models as fleet
from app.help import models as help
from app.history import models as history
from app.notifications import models as notifications
from app.orders import models as orders
from app.planning import models as planning
from app.quality import models as quality
from loyalty import models as loyalty
from returns import models as returns

__all__ = [
    "Base",
    "accounts",
    "background",
    "catalog",
    "customers",
    "fleet",
    "help",
    "history",
    "loyalty",
    "notifications",
    "orders",
    "planning",
    "quality",
    "returns",
]
