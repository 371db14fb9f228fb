from django.urls import path

import leadflow.converters  # noqa: F401 - registers <id:>
from web.views import auth, dashboard, definitions, handoffs, imports, jobs, leads
from web.views import settings_pages as sp

app_name = "web"

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("language/", auth.language, name="language"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("leads/", leads.lead_list, name="lead-list"),
    path("leads/export.csv", leads.lead_export, name="lead-export"),
    path("leads/archive/", leads.lead_bulk_archive, name="lead-bulk-archive"),
    path("leads/<id:lead_id>/", leads.lead_detail, name="lead-detail"),
    path("leads/<id:lead_id>/edit/", leads.lead_edit, name="lead-edit"),
    path(
        "leads/<id:lead_id>/transitions/<str:name>/",
        leads.lead_transition_view,
        name="lead-transition",
    ),
    path("inbox/", handoffs.inbox, name="inbox"),
    path(
        "inbox/<id:handoff_id>/reassign/",
        handoffs.handoff_reassign_view,
        name="handoff-reassign",
    ),
    path("inbox/<id:handoff_id>/<str:action>/", handoffs.handoff_answer, name="handoff-answer"),
    path("pipeline/", handoffs.pipeline, name="pipeline"),
    path("pipeline/<id:lead_id>/call/", handoffs.pipeline_call, name="pipeline-call"),
    path("reports/inside-sales/", dashboard.inside_sales_page, name="inside-sales-report"),
    path("advisor/", dashboard.advisor_page, name="advisor"),
    path("advisor/model/train/", dashboard.win_model_train, name="win-model-train"),
    path("advisor/compute/", dashboard.advisor_compute, name="advisor-compute"),
    path("definitions/", definitions.definition_list_view, name="definition-list"),
    path("definitions/new/", definitions.definition_new, name="definition-new"),
    path("definitions/<id:definition_id>/", definitions.definition_edit, name="definition-edit"),
    path(
        "definitions/<id:definition_id>/backtest/",
        definitions.definition_backtest,
        name="definition-backtest",
    ),
    path(
        "definitions/<id:definition_id>/what-if/",
        definitions.definition_what_if,
        name="definition-what-if",
    ),
    path(
        "definitions/<id:definition_id>/publish/",
        definitions.definition_publish_view,
        name="definition-publish",
    ),
    path("jobs/<id:job_id>/", jobs.job_progress, name="job-progress"),
    path("scoring/", sp.rule_list, name="scoring-rules"),
    path("scoring/new/", sp.rule_edit, name="scoring-rule-new"),
    path("scoring/<id:rule_id>/", sp.rule_edit, name="scoring-rule-edit"),
    path("scoring/<id:rule_id>/delete/", sp.rule_delete, name="scoring-rule-delete"),
    path("scoring/recompute/", sp.score_recompute, name="score-recompute"),
    path("webhooks/", sp.webhook_list, name="webhook-list"),
    path("webhooks/new/", sp.webhook_edit, name="webhook-new"),
    path("webhooks/<id:subscription_id>/", sp.webhook_edit, name="webhook-edit"),
    path("webhooks/<id:subscription_id>/delete/", sp.webhook_delete, name="webhook-delete"),
    path("web-forms/", sp.webform_list, name="webform-list"),
    path("web-forms/new/", sp.webform_edit, name="webform-new"),
    path("web-forms/<id:form_id>/", sp.webform_edit, name="webform-edit"),
    path("imports/", imports.import_new, name="import-new"),
    path("imports/<id:import_id>/", imports.import_detail, name="import-detail"),
    path("imports/<id:import_id>/errors.csv", imports.import_errors, name="import-errors"),
]
