"""qmpconf: the differential conformance runner of qmp-mock.

Scenarios (conformance/scenarios/*.yaml) run against real QEMU (a qtest socket plays the guest)
and against qmp-mockd (the control socket plays the guest); what a QMP client sees, and the
register values the guest reads, are compared step by step. docs/deviations.md lists every
intended difference; anything else fails.
"""
