"""Database models, engine and migrations."""
import importlib

# Feature areas keep their tables in their own module; all are registered before migrating.
MODEL_MODULES = ("storage.models", "storage.models_incentives", "storage.models_ingest", "storage.models_business",
                 "storage.models_team", "storage.models_voice", "storage.models_console",
                 "storage.models_coaching", "storage.models_firstweek", "storage.models_feedback",
                 "storage.models_names", "storage.models_fanout", "storage.models_rollup",
                 "storage.models_digest")


def load_all_models() -> None:
    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
