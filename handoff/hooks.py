"""How the handoff app plugs into the lifecycle without leads importing it."""

from leads.services import transitions


def register() -> None:
    from handoff.assignment import assign
    from handoff.services import handoff_on_transition

    transitions.hooks.assign = assign
    if handoff_on_transition not in transitions.hooks.in_transaction:
        transitions.hooks.in_transaction.append(handoff_on_transition)
