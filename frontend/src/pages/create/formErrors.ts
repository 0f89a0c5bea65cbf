/**
 * Where the create form shows an error of `POST /api/operations`: a 422
 * names fields (`{"detail": [{"loc": ["body", "quantity"], "msg": ...}]}`,
 * dotted for strategy parameters: `strategy_config.fast_period`), shown
 * under the input of that field when the form has one; every other error
 * goes into the alert above the submit button.
 */
import { ApiError, errorMessage, fieldErrors } from '../../api/errors';

export type FormErrors = {
  /** message by API field name, for fields the form shows */
  fields: Record<string, string>;
  /** [field, message] of 422 issues naming a field the form does not show */
  otherFields: [string, string][];
  /** the error's message when it names no field (not a 422, or a 422 on the whole body) */
  general: string | null;
};

export const NO_ERRORS: FormErrors = { fields: {}, otherFields: [], general: null };

/** `bar_sizes.0` → `bar_sizes`: an item's error is shown on its list. */
export function normalizeField(field: string): string {
  return field.replace(/(\.\d+)+$/, '');
}

function clean(message: string): string {
  return message.replace(/^Value error, /, '');
}

/**
 * Split what a failed submit threw into field errors (for fields
 * `isShown` accepts) and the rest.
 */
export function formErrors(error: unknown, isShown: (field: string) => boolean): FormErrors {
  if (!(error instanceof ApiError) || error.status !== 422 || error.issues.length === 0) {
    return { ...NO_ERRORS, general: errorMessage(error) };
  }
  const result: FormErrors = { fields: {}, otherFields: [], general: null };
  const general: string[] = [];
  for (const [rawField, message] of Object.entries(fieldErrors(error))) {
    const field = normalizeField(rawField);
    const text = clean(message);
    if (!field) general.push(text);
    else if (isShown(field)) {
      result.fields[field] = result.fields[field] ? `${result.fields[field]}; ${text}` : text;
    } else result.otherFields.push([field, text]);
  }
  if (general.length > 0) result.general = general.join('; ');
  return result;
}
