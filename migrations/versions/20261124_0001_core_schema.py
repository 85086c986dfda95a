"""core schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 08:59:03.735806
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "depots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.CheckConstraint("lat BETWEEN -90 AND 90", name=op.f("ck_depots_lat_range")),
        sa.CheckConstraint("lon BETWEEN -180 AND 180", name=op.f("ck_depots_lon_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_depots")),
        sa.UniqueConstraint("code", name=op.f("uq_depots_code")),
    )
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("price_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="RUB", nullable=False),
        sa.Column("is_food", sa.Boolean(), nullable=False),
        sa.Column("load_units", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint("load_units > 0", name=op.f("ck_products_load_positive")),
        sa.CheckConstraint("price_minor >= 0", name=op.f("ck_products_price_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("sku", name=op.f("uq_products_sku")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'dispatcher', 'courier', 'support', 'customer')",
            name=op.f("ck_users_role_known"),
        ),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_users_email_lowercase")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_tokens_token_sha256")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "couriers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.ForeignKeyConstraint(
            ["depot_id"], ["depots.id"], name=op.f("fk_couriers_depot_id_depots")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_couriers_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_couriers")),
        sa.UniqueConstraint("user_id", name=op.f("uq_couriers_user_id")),
    )
    with op.batch_alter_table("couriers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_couriers_depot_id"), ["depot_id"], unique=False)

    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_customers_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("email", name=op.f("uq_customers_email")),
        sa.UniqueConstraint("user_id", name=op.f("uq_customers_user_id")),
    )
    op.create_table(
        "delivery_window_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.Column("cutoff_days_before", sa.Integer(), nullable=False),
        sa.Column("cutoff_minute", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "cutoff_days_before >= 0",
            name=op.f("ck_delivery_window_templates_cutoff_days_not_negative"),
        ),
        sa.CheckConstraint(
            "cutoff_minute >= 0 AND cutoff_minute < 1440",
            name=op.f("ck_delivery_window_templates_cutoff_in_day"),
        ),
        sa.CheckConstraint(
            "end_minute <= 1440", name=op.f("ck_delivery_window_templates_end_within_day")
        ),
        sa.CheckConstraint(
            "start_minute >= 0 AND start_minute < end_minute",
            name=op.f("ck_delivery_window_templates_start_before_end"),
        ),
        sa.ForeignKeyConstraint(
            ["depot_id"], ["depots.id"], name=op.f("fk_delivery_window_templates_depot_id_depots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_window_templates")),
        sa.UniqueConstraint(
            "depot_id",
            "start_minute",
            "end_minute",
            name=op.f("uq_delivery_window_templates_depot_id_start_minute_end_minute"),
        ),
    )
    with op.batch_alter_table("delivery_window_templates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delivery_window_templates_depot_id"), ["depot_id"], unique=False
        )

    op.create_table(
        "lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("supplier", sa.String(length=160), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("blocked_reason", sa.String(length=255), nullable=True),
        sa.CheckConstraint(
            "NOT blocked OR blocked_reason IS NOT NULL", name=op.f("ck_lots_block_has_reason")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_lots_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lots")),
        sa.UniqueConstraint("product_id", "code", name=op.f("uq_lots_product_id_code")),
    )
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lots_product_id"), ["product_id"], unique=False)

    op.create_table(
        "vehicles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.Column("registration", sa.String(length=20), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("capacity_units", sa.Integer(), nullable=False),
        sa.Column("in_service", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("out_of_service_reason", sa.String(length=255), nullable=True),
        sa.CheckConstraint("type IN ('bike', 'car', 'van')", name=op.f("ck_vehicles_type_known")),
        sa.CheckConstraint("capacity_units > 0", name=op.f("ck_vehicles_capacity_positive")),
        sa.CheckConstraint(
            "in_service OR out_of_service_reason IS NOT NULL",
            name=op.f("ck_vehicles_out_of_service_has_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["depot_id"], ["depots.id"], name=op.f("fk_vehicles_depot_id_depots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vehicles")),
        sa.UniqueConstraint("registration", name=op.f("uq_vehicles_registration")),
    )
    with op.batch_alter_table("vehicles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vehicles_depot_id"), ["depot_id"], unique=False)

    op.create_table(
        "addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.String(length=255), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("coordinate_source", sa.String(length=10), nullable=False),
        sa.Column("instructions", sa.String(length=255), nullable=True),
        sa.CheckConstraint(
            "coordinate_source IN ('given', 'geocoded')", name=op.f("ck_addresses_source_known")
        ),
        sa.CheckConstraint("lat BETWEEN -90 AND 90", name=op.f("ck_addresses_lat_range")),
        sa.CheckConstraint("lon BETWEEN -180 AND 180", name=op.f("ck_addresses_lon_range")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_addresses_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addresses")),
    )
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_addresses_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("courier_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=True),
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_shifts_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["courier_id"], ["couriers.id"], name=op.f("fk_shifts_courier_id_couriers")
        ),
        sa.ForeignKeyConstraint(
            ["depot_id"], ["depots.id"], name=op.f("fk_shifts_depot_id_depots")
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicles.id"], name=op.f("fk_shifts_vehicle_id_vehicles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shifts")),
        sa.UniqueConstraint("courier_id", "starts_at", name=op.f("uq_shifts_courier_id_starts_at")),
    )
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shifts_courier_id"), ["courier_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shifts_depot_id"), ["depot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shifts_vehicle_id"), ["vehicle_id"], unique=False)

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("external_ref", sa.String(length=64), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.Column("window_template_id", sa.Integer(), nullable=True),
        sa.Column("delivery_day", sa.Date(), nullable=False),
        sa.Column("window_start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("total_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("notes", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('new', 'planned', 'out_for_delivery', 'delivered', 'failed', 'held', 'cancelled')",
            name=op.f("ck_orders_status_known"),
        ),
        sa.CheckConstraint("total_minor >= 0", name=op.f("ck_orders_total_not_negative")),
        sa.CheckConstraint(
            "window_end_at > window_start_at", name=op.f("ck_orders_window_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["address_id"], ["addresses.id"], name=op.f("fk_orders_address_id_addresses")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_orders_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["depot_id"], ["depots.id"], name=op.f("fk_orders_depot_id_depots")
        ),
        sa.ForeignKeyConstraint(
            ["window_template_id"],
            ["delivery_window_templates.id"],
            name=op.f("fk_orders_window_template_id_delivery_window_templates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("external_ref", name=op.f("uq_orders_external_ref")),
        sa.UniqueConstraint("number", name=op.f("uq_orders_number")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_address_id"), ["address_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_delivery_day"), ["delivery_day"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_depot_id"), ["depot_id"], unique=False)

    op.create_table(
        "order_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_items_quantity_positive")),
        sa.CheckConstraint("unit_price_minor >= 0", name=op.f("ck_order_items_price_not_negative")),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_order_items_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_items_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_order_items_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_items")),
    )
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_items_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_items_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_items_product_id"), ["product_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_items_product_id"))
        batch_op.drop_index(batch_op.f("ix_order_items_order_id"))
        batch_op.drop_index(batch_op.f("ix_order_items_lot_id"))

    op.drop_table("order_items")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_depot_id"))
        batch_op.drop_index(batch_op.f("ix_orders_delivery_day"))
        batch_op.drop_index(batch_op.f("ix_orders_customer_id"))
        batch_op.drop_index(batch_op.f("ix_orders_address_id"))

    op.drop_table("orders")
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shifts_vehicle_id"))
        batch_op.drop_index(batch_op.f("ix_shifts_depot_id"))
        batch_op.drop_index(batch_op.f("ix_shifts_courier_id"))

    op.drop_table("shifts")
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_addresses_customer_id"))

    op.drop_table("addresses")
    with op.batch_alter_table("vehicles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vehicles_depot_id"))

    op.drop_table("vehicles")
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lots_product_id"))

    op.drop_table("lots")
    with op.batch_alter_table("delivery_window_templates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_window_templates_depot_id"))

    op.drop_table("delivery_window_templates")
    op.drop_table("customers")
    with op.batch_alter_table("couriers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_couriers_depot_id"))

    op.drop_table("couriers")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_table("products")
    op.drop_table("depots")
