"""Django forms built from input definitions: one class for the screen and the API.

The fields only collect raw values and pick widgets; every rule and message comes
from flows.inputs (through flows.screens for answers), so a bad value gets the same
error on the web screen, in the API's 400 body, and from the CLI.
"""

import json
from collections.abc import Callable

from django import forms
from django.utils.html import escape

from flows import inputs, screens
from flows.inputs import InputDef, InputValidationError

NUMBER_STEP = {"INT": "1", "FLOAT": "any"}


def _widget(definition: InputDef) -> forms.Widget:
    kind = definition.type
    attrs = {}
    if kind in NUMBER_STEP:
        attrs = {
            "step": NUMBER_STEP[kind],
            "min": definition.min,
            "max": definition.max,
        }
        return forms.NumberInput({k: v for k, v in attrs.items() if v is not None})
    if kind in ("ENUM", "SELECT"):
        blank = [] if definition.required else [("", "—")]
        return forms.Select(choices=blank + [(v, v) for v in definition.values])
    if kind == "MULTISELECT":
        return forms.CheckboxSelectMultiple(choices=[(v, v) for v in definition.values])
    # The default is never shown; say that an empty box keeps it.
    secret = (
        {"placeholder": "Leave empty for the default"} if definition.has_default else {}
    )
    simple = {
        "BOOLEAN": forms.CheckboxInput,
        "DATE": lambda: forms.DateInput(attrs={"type": "date"}),
        "DATETIME": lambda: forms.DateTimeInput(attrs={"type": "datetime-local"}),
        "TIME": lambda: forms.TimeInput(attrs={"type": "time", "step": "1"}),
        "DURATION": lambda: forms.TextInput(attrs={"placeholder": "PT5M"}),
        "JSON": lambda: forms.Textarea(attrs={"rows": 4}),
        "YAML": lambda: forms.Textarea(attrs={"rows": 4}),
        "ARRAY": lambda: forms.Textarea(attrs={"rows": 3, "placeholder": '["a", "b"]'}),
        "SECRET": lambda: forms.PasswordInput(render_value=False, attrs=secret),
        "FILE": forms.ClearableFileInput,
        "EMAIL": forms.EmailInput,
        "URI": forms.URLInput,
    }
    return simple.get(kind, forms.TextInput)()


class RawField(forms.Field):
    """Passes the submitted value through untouched; flows.inputs judges it.

    `required` only marks the field (asterisk, the browser's own check): the
    message for a missing value comes from flows.inputs like every other one.
    """

    def __init__(self, definition: InputDef):
        super().__init__(
            required=_needs_value(definition),
            widget=_widget(definition),
            label=definition.label,
            # Django renders help_text unescaped; flow authors' text must not be HTML.
            help_text=escape(definition.description),
            initial=_initial(definition),
        )
        self.definition = definition

    def validate(self, value):
        """Presence is judged by flows.inputs, with the same message everywhere."""


def _needs_value(definition: InputDef) -> bool:
    """Whether the browser should refuse the field left empty (see flows.inputs)."""
    if definition.type in ("BOOLEAN", "MULTISELECT"):
        return False  # a checkbox always answers; a group cannot be `required`
    if definition.type in inputs.UNSHOWN_DEFAULT and definition.has_default:
        return False  # left empty, the default applies
    return definition.required


def _initial(definition: InputDef):
    if not definition.has_default:
        return None
    if definition.type in ("JSON", "YAML", "ARRAY") and definition.default is not None:
        return json.dumps(definition.default)
    if definition.type == "DATETIME" and isinstance(definition.default, str):
        return definition.default[:19]
    return definition.default


class InputsForm(forms.Form):
    """Fields for `input_fields`; after is_valid(), `values` holds the typed answer."""

    input_fields: list[InputDef] = []
    validator: Callable[[dict], dict] = staticmethod(lambda data: data)

    def __init__(self, data=None, files=None, *, api: bool = False, **kwargs):
        self.api = api
        self.values: dict = {}
        self.input_errors: dict[str, list[str]] = {}
        self.json_body = data
        if api:
            data = data if isinstance(data, dict) else {}
            files = None
        super().__init__(data, files, **kwargs)
        for definition in self.input_fields:
            self.fields[definition.id] = RawField(definition)

    def clean(self):
        if self.api and not isinstance(self.json_body, dict):
            raise forms.ValidationError("The body must be a JSON object.")
        raw = self._raw_from_json() if self.api else self._raw_from_widgets()
        try:
            self.values = self.validator(raw)
        except InputValidationError as exc:
            self.input_errors = exc.errors
            for name, messages in exc.errors.items():
                field = name if name in self.fields else None
                for message in messages:
                    self.add_error(
                        field, f"{name}: {message}" if field is None else message
                    )
        return self.cleaned_data

    def _raw_from_widgets(self) -> dict:
        sent = {
            name: field.widget.value_from_datadict(
                self.data, self.files, self.add_prefix(name)
            )
            for name, field in self.fields.items()
        }
        return inputs.from_web_form(self.input_fields, sent)

    def _raw_from_json(self) -> dict:
        return dict(self.json_body)


def build_form_class(
    fields: list[InputDef], validator: Callable[[dict], dict], name: str = "InputsForm"
) -> type[InputsForm]:
    return type(
        name,
        (InputsForm,),
        {"input_fields": fields, "validator": staticmethod(validator)},
    )


def answer_form(token, data=None, files=None, *, api: bool = False) -> InputsForm:
    """The form answering `token`: the screen's own fields, then the onResume inputs."""
    fields = screens.response_fields(token.screen, token.schema)

    def validate(raw: dict) -> dict:
        return screens.validate_response(
            token.screen, token.schema, raw, options=token.options
        )

    form = build_form_class(fields, validate, "AnswerForm")(data, files, api=api)
    _mark_comment(form, token.options)
    return form


def _mark_comment(form: InputsForm, options: dict) -> None:
    """Say on the comment field when the task's `commentRequired` asks for one."""
    field = form.fields.get("comment")
    rule = options.get("commentRequired", "NEVER")
    if field is None or rule == "NEVER" or field.definition.required:
        return
    if rule == "ALWAYS":
        field.required = True
        field.help_text = "A comment is required."
        return
    approve, reject = screens.decision_labels(options)
    label = reject if rule == "ON_DENY" else approve
    field.help_text = escape(f"Required when you choose “{label}”.")


def start_form(flow, data=None, files=None, *, api: bool = False) -> InputsForm:
    """The form for starting `flow` with its latest revision's inputs."""
    revision = flow.revisions.get(revision=flow.latest_revision)
    fields = inputs.parse_definitions(revision.definition.get("inputs") or [])

    def validate(raw: dict) -> dict:
        return inputs.validate(fields, raw)

    return build_form_class(fields, validate, "StartForm")(data, files, api=api)


def error_dict(form: InputsForm) -> dict[str, list[str]]:
    """Errors as the API's 400 body names them: by input id, unknown keys too."""
    errors = {name: list(messages) for name, messages in form.input_errors.items()}
    for name, messages in form.errors.items():
        if name != "__all__" or not errors:
            errors.setdefault(name, [str(m) for m in messages])
    return errors


def error_links(form, *, targets: dict[str, str] | None = None) -> list[dict]:
    """The error summary's rows: each error, and the id of the element it is about.

    A field's row links to its input (`id_<name>`, the first box of a group); an
    error of the whole form links to its box, `non-field-errors`. `targets` points
    a field shown some other way (the decision buttons) at another element.
    """
    if form is None or not form.errors:
        return []
    targets = targets or {}
    rows = [
        {"target": "non-field-errors", "text": str(error)}
        for error in form.non_field_errors()
    ]
    for bound in form:
        target = targets.get(bound.name) or _input_id(bound)
        label = bound.label or bound.name
        rows += [{"target": target, "text": f"{label}: {e}"} for e in bound.errors]
    return rows


def _input_id(bound) -> str:
    """The id a link can focus: the input itself, or a group's first checkbox."""
    if isinstance(bound.field.widget, forms.CheckboxSelectMultiple):
        return f"{bound.auto_id}_0"
    return bound.auto_id
