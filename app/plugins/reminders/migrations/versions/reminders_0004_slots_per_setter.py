"""Count a task's reminders per setter: on a shared list, each member's reminders are their own.

Task: T-366
Spec: specs/features/reminders.md §Tables; specs/features/sharing.md §Model (What stays personal)

Revision ID: reminders_0004
Revises: reminders_0003
"""

from alembic import op

revision = "reminders_0004"
down_revision = "reminders_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A member's slot row is theirs (`user_id`, stamped by the kernel): keyed by the task alone,
    # it met the owner's row and the member's create found no free slot.
    op.drop_constraint("reminder_slots_pkey", "reminder_slots", type_="primary")
    op.create_primary_key("reminder_slots_pkey", "reminder_slots", ["task_id", "user_id"])


def downgrade() -> None:
    op.drop_constraint("reminder_slots_pkey", "reminder_slots", type_="primary")
    op.execute(
        "DELETE FROM reminder_slots s USING tasks t WHERE t.id = s.task_id AND s.user_id <> t.user_id"
    )
    op.create_primary_key("reminder_slots_pkey", "reminder_slots", ["task_id"])
