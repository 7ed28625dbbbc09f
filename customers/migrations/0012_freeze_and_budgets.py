"""Reseller controls (issue 20): who froze an account, monthly budgets and usage, the partner's
control settings. An account frozen before this migration was frozen by an operator (the only
way there was): it becomes a vendor freeze. The two new permissions go to the built-in roles
that hold them (organization.permissions)."""

import django.db.models.deletion
import django.utils.timezone
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models

NEW_PERMISSIONS = ("freeze_customers", "manage_budgets")

# SQLite adds a column by rebuilding the table (a new table, the rows copied, the old one
# dropped, the new one renamed): the triggers on customers_customer go with the old table, and
# a trigger on another table that names it (the home's day counts, migration 0011) stops the
# rename. On SQLite they are set aside before the new columns and put back after them,
# unchanged; PostgreSQL adds columns in place.
_SET_ASIDE: list[tuple[str, str]] = []


def set_triggers_aside(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND (tbl_name = 'customers_customer' OR sql LIKE '%customers_customer%')"
        )
        _SET_ASIDE[:] = cursor.fetchall()
    for name, _sql in _SET_ASIDE:
        schema_editor.execute(f'DROP TRIGGER "{name}"')


def put_triggers_back(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for _name, sql in _SET_ASIDE:
        schema_editor.execute(sql)
    _SET_ASIDE.clear()


def vendor_freezes(apps, schema_editor):
    apps.get_model("customers", "Customer").objects.filter(frozen=True).update(frozen_source="vendor")


def grant_new_permissions(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    from organization.permissions import BUILTIN_ROLE_PERMISSIONS

    app_config = apps.get_app_config("customers")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps, using=schema_editor.connection.alias)
    Role = apps.get_model("organization", "Role")
    Permission = apps.get_model("auth", "Permission")
    for codename in NEW_PERMISSIONS:
        permission = Permission.objects.get(content_type__app_label="customers", codename=codename)
        for role in Role.objects.exclude(builtin=""):
            if f"customers.{codename}" in BUILTIN_ROLE_PERMISSIONS.get(role.builtin, ()):
                role.permissions.add(permission)


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0011_partner_day_counts'),
        ('organization', '0003_partner_currency_user_time_zone'),
        ('auth', '0012_alter_user_first_name_max_length'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(set_triggers_aside, put_triggers_back),
        migrations.CreateModel(
            name='BudgetChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('old_budget', models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, verbose_name='old budget')),
                ('new_budget', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='new budget')),
                ('actor_name', models.CharField(blank=True, max_length=150, verbose_name='actor name')),
                ('reason', models.CharField(blank=True, max_length=256, verbose_name='reason')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='when')),
            ],
            options={
                'verbose_name': 'budget change',
                'verbose_name_plural': 'budget changes',
            },
        ),
        migrations.CreateModel(
            name='PartnerControls',
            fields=[
                ('partner', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='controls', serialize=False, to='organization.partner', verbose_name='partner')),
                ('start_frozen_until_budget', models.BooleanField(default=False, help_text='A customer that becomes a reseller customer is frozen until you set its first monthly budget.', verbose_name='new reseller customers start frozen until their first budget')),
                ('freeze_on_exhaustion', models.BooleanField(default=False, help_text='Freeze a reseller customer automatically when its month-to-date spend reaches its budget.', verbose_name='freeze on budget exhaustion')),
                ('freeze_granted', models.BooleanField(default=False, help_text='Set by the distributor: this reseller may freeze and unfreeze its own customers.', verbose_name='may freeze its customers')),
            ],
            options={
                'verbose_name': 'reseller controls settings',
                'verbose_name_plural': 'reseller controls settings',
            },
        ),
        migrations.CreateModel(
            name='UsagePosting',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('amount', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='amount')),
                ('month', models.DateField(verbose_name='month')),
                ('reference', models.CharField(blank=True, max_length=64, null=True, unique=True, verbose_name='billing reference')),
                ('posted_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='posted')),
            ],
            options={
                'verbose_name': 'usage posting',
                'verbose_name_plural': 'usage postings',
            },
        ),
        migrations.AlterModelOptions(
            name='customer',
            options={'permissions': [('export_customers', 'Can export the customer list'), ('invite_customers', 'Can invite customers'), ('switch_association', 'Can switch the association type'), ('unbind_association', 'Can unbind customers'), ('handle_dissociation', 'Can handle dissociation requests'), ('allocate_funds', 'Can allocate funds'), ('recover_funds', 'Can recover funds'), ('issue_vouchers', 'Can issue vouchers'), ('freeze_customers', 'Can freeze and unfreeze customers'), ('manage_budgets', 'Can set monthly budgets')], 'verbose_name': 'customer', 'verbose_name_plural': 'customers'},
        ),
        migrations.AddField(
            model_name='customer',
            name='budget_alert',
            field=models.PositiveSmallIntegerField(db_default=0, default=0, help_text='The highest share of the budget (80 or 100 %) the partner was told of this month.', verbose_name='budget alert sent'),
        ),
        migrations.AddField(
            model_name='customer',
            name='frozen_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='frozen at'),
        ),
        migrations.AddField(
            model_name='customer',
            name='frozen_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='frozen by user'),
        ),
        migrations.AddField(
            model_name='customer',
            name='frozen_by_name',
            field=models.CharField(blank=True, db_default='', default='', max_length=150, verbose_name='frozen by (name)'),
        ),
        migrations.AddField(
            model_name='customer',
            name='frozen_by_partner',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='organization.partner', verbose_name='frozen by partner'),
        ),
        migrations.AddField(
            model_name='customer',
            name='frozen_reason',
            field=models.CharField(blank=True, db_default='', default='', max_length=256, verbose_name='freeze reason'),
        ),
        migrations.AddField(
            model_name='customer',
            name='frozen_source',
            field=models.CharField(blank=True, choices=[('', 'Not frozen'), ('partner', 'Partner'), ('vendor', 'Vendor')], db_default='', default='', max_length=10, verbose_name='frozen by'),
        ),
        migrations.AddField(
            model_name='customer',
            name='month_spend',
            field=models.DecimalField(db_default=Decimal('0.00'), decimal_places=2, default=Decimal('0.00'), max_digits=14, verbose_name='month-to-date spend'),
        ),
        migrations.AddField(
            model_name='customer',
            name='monthly_budget',
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, verbose_name='monthly budget'),
        ),
        migrations.AddField(
            model_name='customer',
            name='spend_month',
            field=models.DateField(blank=True, null=True, verbose_name='spend month'),
        ),
        migrations.RunPython(vendor_freezes, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='customer',
            constraint=models.CheckConstraint(condition=models.Q(('monthly_budget__isnull', True), ('monthly_budget__gt', 0), _connector='OR'), name='customer_monthly_budget_positive', violation_error_message='A monthly budget must be greater than zero.'),
        ),
        migrations.AddConstraint(
            model_name='customer',
            constraint=models.CheckConstraint(condition=models.Q(('month_spend__gte', 0)), name='customer_month_spend_not_negative', violation_error_message='The month-to-date spend cannot be negative.'),
        ),
        migrations.AddField(
            model_name='budgetchange',
            name='actor',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='actor'),
        ),
        migrations.AddField(
            model_name='budgetchange',
            name='customer',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='budget_changes', to='customers.customer', verbose_name='customer'),
        ),
        migrations.AddField(
            model_name='budgetchange',
            name='partner',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='organization.partner', verbose_name='partner'),
        ),
        migrations.AddField(
            model_name='usageposting',
            name='customer',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='usage', to='customers.customer', verbose_name='customer'),
        ),
        migrations.AddField(
            model_name='usageposting',
            name='posted_by',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='posted by'),
        ),
        migrations.AddIndex(
            model_name='budgetchange',
            index=models.Index(fields=['customer', '-id'], name='budget_change_customer_id'),
        ),
        migrations.AddIndex(
            model_name='usageposting',
            index=models.Index(fields=['customer', '-id'], name='usage_customer_id'),
        ),
        migrations.AddConstraint(
            model_name='usageposting',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='usage_amount_positive', violation_error_message='Usage must be greater than zero.'),
        ),
        migrations.RunPython(put_triggers_back, set_triggers_aside),
        migrations.RunPython(grant_new_permissions, migrations.RunPython.noop),
    ]
