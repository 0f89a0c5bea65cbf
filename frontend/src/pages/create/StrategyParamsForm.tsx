/** The inputs of a strategy's parameters, built from its JSON schema. */
import type { InputHTMLAttributes } from 'react';
import { Checkbox, FormControlLabel, FormHelperText, Grid, TextField, Typography } from '@mui/material';
import { boundsText, type ParamField, type ParamValues } from './paramSchema';

type Props = {
  fields: readonly ParamField[];
  values: ParamValues;
  /** message by parameter name */
  errors: Record<string, string>;
  onChange: (name: string, value: string | boolean) => void;
  disabled?: boolean;
};

function FieldError({ name, message }: { name: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <FormHelperText error data-testid={`field-error-strategy_config.${name}`}>{message}</FormHelperText>
  );
}

function helper(field: ParamField): string {
  const bounds = boundsText(field);
  const dflt = field.default === undefined ? '' : `default ${String(field.default)}`;
  return [field.description, [bounds, dflt].filter(Boolean).join('; ')].filter(Boolean).join(' — ');
}

function ParamInput({ field, value, error, onChange, disabled }: {
  field: ParamField;
  value: string | boolean | undefined;
  error: string | undefined;
  onChange: (value: string | boolean) => void;
  disabled?: boolean;
}) {
  const testId = `create-param-${field.name}`;
  if (field.kind === 'boolean') {
    return (
      <>
        <FormControlLabel
          label={field.label}
          disabled={disabled}
          control={(
            <Checkbox checked={value === true} onChange={(e) => onChange(e.target.checked)}
              slotProps={{ input: { 'data-testid': testId } as InputHTMLAttributes<HTMLInputElement> }} />
          )}
        />
        <FormHelperText>{helper(field)}</FormHelperText>
        <FieldError name={field.name} message={error} />
      </>
    );
  }
  const numeric = field.kind === 'integer' || field.kind === 'number';
  return (
    <>
      <TextField
        fullWidth
        label={field.label}
        value={typeof value === 'string' ? value : ''}
        onChange={(e) => onChange(e.target.value)}
        error={Boolean(error)}
        helperText={helper(field)}
        disabled={disabled}
        type={numeric ? 'number' : 'text'}
        select={field.kind === 'enum'}
        slotProps={{
          select: { native: true },
          inputLabel: { shrink: true },
          htmlInput: {
            'data-testid': testId,
            ...(numeric ? {
              step: field.kind === 'integer' ? 1 : 'any',
              min: field.minimum ?? field.exclusiveMinimum,
              max: field.maximum ?? field.exclusiveMaximum,
            } : {}),
          },
        }}
      >
        {field.kind === 'enum' && field.options.map((option) => <option key={option} value={option}>{option}</option>)}
      </TextField>
      <FieldError name={field.name} message={error} />
    </>
  );
}

export function StrategyParamsForm({ fields, values, errors, onChange, disabled }: Props) {
  if (fields.length === 0) {
    return <Typography variant="body2" color="text.secondary">This strategy has no parameters.</Typography>;
  }
  return (
    <Grid container spacing={2}>
      {fields.map((field) => (
        <Grid key={field.name} size={{ xs: 12, sm: 6 }}>
          <ParamInput field={field} value={values[field.name]} error={errors[field.name]}
            onChange={(value) => onChange(field.name, value)} disabled={disabled} />
        </Grid>
      ))}
    </Grid>
  );
}
