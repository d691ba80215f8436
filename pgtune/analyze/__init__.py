"""Analyze: parse and bind statements, generate index candidates, cost them, select.

This door is what the other rooms use (tests/test_layers.py keeps them out of
the inner files): the advice model and ``advise``, the candidate and scenario
types that plan, baseline and health read, and the size forecasts.
"""

from . import hot, null_keys, sizing
from .advisor import Options, advise, suggest, valued
from .beyond import after_selection, check_trial
from .bind import Role, Shape, bind
from .bounded import CHECK_TIMEOUT, Read, bounded
from .candidates import FK_PREFIX_ROWS, Candidate, Origin, hash_serves, serves_foreign_key, serves_index
from .extended_stats import StatisticsProposal
from .fk_gist import gist_serves
from .generic_plans import made_hypothetically
from .invalid_keys import has_duplicates
from .kind_budget import Budget
from .model import (
           Advice,
           AnalyzedStatement,
           CurvePoint,
           IndexSuggestion,
           Method,
           QueryRef,
           Rejected,
           SkipKind,
           Skipped,
)
from .reasons import in_function
from .recredit import again as replan_withdrawn
from .scenarios import Scenario, ValueSource, counted, weighted_cost
from .selection import SizeBasis, StepKind
from .shape import OUTPUT, STAR
from .twins import twin_of

__all__ = ["CHECK_TIMEOUT", "FK_PREFIX_ROWS", "OUTPUT", "STAR", "Advice", "AnalyzedStatement", "Budget", "Candidate",
           "CurvePoint", "IndexSuggestion", "Method", "Options", "Origin", "QueryRef", "Read", "Rejected", "Role",
           "Scenario", "Shape", "SizeBasis", "SkipKind", "Skipped", "StatisticsProposal", "StepKind", "ValueSource",
           "advise", "after_selection", "bind", "bounded", "check_trial", "counted", "gist_serves", "has_duplicates",
           "hash_serves", "hot", "in_function", "made_hypothetically", "null_keys", "replan_withdrawn",
           "serves_foreign_key", "serves_index", "sizing", "suggest", "twin_of", "valued", "weighted_cost"]
