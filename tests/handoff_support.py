"""What the delegation and withdrawal tests share: a leave request and its people.

`emp` starts it; `ann` is assigned by name, the group `managers` (`mia`) too;
`bob` and `carol` are plain members; `gus` is in another tenant, `ivy` inactive.
The fixtures `people` and `leave` are in conftest.py.
"""

LEAVE = """\
id: leave
namespace: acme.hr
inputs:
  - id: days
    type: INT
    defaults: 3
tasks:
  - id: ask
    type: Pause
    screen: approval
    message: "Grant {{{{ inputs.days }}}} days?"
{pause}
  - id: after
    type: Return
    format: "{{{{ outputs.ask.decision }}}}"
finally:
  - id: tidy
    type: Log
    message: tidied
"""
ASSIGNED = """
assignees:
  users: [ann]
  groups: [managers]
"""
