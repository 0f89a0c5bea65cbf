/**
 * Create a trading operation (route /operations/new): asset, bar sizes,
 * strategy and its parameters (a form built from the strategy's JSON
 * schema), stop-loss / take-profit, crash recovery and size. Settings left
 * empty take the server's defaults (config/config.yaml). A 422 is shown
 * under the field it names; on success the new operation's page opens.
 */
import { useMemo, useState, type FormEvent, type ReactNode } from 'react';
import {
  Alert, AlertTitle, Box, Button, Checkbox, FormControlLabel, FormHelperText, Grid, Paper, TextField, Typography,
} from '@mui/material';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { api, call } from '../../api/client';
import { useStrategies } from '../../api/hooks';
import type { Operation, OperationCreate, StrategyInfo } from '../../api/models';
import { queryKeys } from '../../api/queryKeys';
import { useAuth } from '../../auth/useAuth';
import { ErrorState, Loading } from '../../components/states';
import { formErrors, NO_ERRORS, type FormErrors } from './formErrors';
import { BAR_SIZES, CRASH_RECOVERY_MODES, STOP_LOSS_TYPES, TAKE_PROFIT_TYPES } from './options';
import { initialValues, paramFields, strategyConfig, validateParams, type ParamValues } from './paramSchema';
import { StrategyParamsForm } from './StrategyParamsForm';

/** The form's own fields (strings as typed; '' = the server's default). */
export type FormState = {
  asset: string;
  bar_sizes: string[];
  primary_bar_size: string;
  strategy_name: string;
  stop_loss_type: string;
  stop_loss_value: string;
  take_profit_type: string;
  take_profit_value: string;
  crash_recovery_mode: string;
  quantity: string;
  initial_capital: string;
  emergency_stop_loss_pct: string;
  data_retention_bars: string;
  max_daily_loss: string;
  confirm_live: boolean;
};

const NUMBER_FIELDS = [
  'stop_loss_value', 'take_profit_value', 'quantity', 'initial_capital', 'emergency_stop_loss_pct',
  'data_retention_bars', 'max_daily_loss',
] as const;
type NumberField = (typeof NUMBER_FIELDS)[number];

/** API fields that have an input on this form (their 422 errors are shown under it). */
const SHOWN_FIELDS = new Set<string>([
  'asset', 'bar_sizes', 'primary_bar_size', 'strategy_name', 'stop_loss_type', 'take_profit_type',
  'crash_recovery_mode', 'confirm_live', ...NUMBER_FIELDS,
]);

const EMPTY_FORM: FormState = {
  asset: 'USD-CAD', bar_sizes: ['1 hour'], primary_bar_size: '1 hour', strategy_name: '',
  stop_loss_type: '', stop_loss_value: '', take_profit_type: '', take_profit_value: '',
  crash_recovery_mode: '', quantity: '', initial_capital: '', emergency_stop_loss_pct: '',
  data_retention_bars: '', max_daily_loss: '', confirm_live: false,
};

/** Numbers the form cannot send (not a number at all), by field. */
export function numberErrors(form: FormState): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const field of NUMBER_FIELDS) {
    const text = form[field].trim();
    if (text !== '' && !Number.isFinite(Number(text))) errors[field] = 'must be a number';
  }
  return errors;
}

/** The request body: empty settings are left out so that the server applies its defaults. */
export function requestBody(form: FormState, config: Record<string, unknown>): OperationCreate {
  const body: OperationCreate = {
    asset: form.asset.trim(),
    bar_sizes: form.bar_sizes,
    strategy_name: form.strategy_name,
    strategy_config: config,
    confirm_live: form.confirm_live,
  };
  if (form.primary_bar_size && form.bar_sizes.includes(form.primary_bar_size)) {
    body.primary_bar_size = form.primary_bar_size;
  }
  if (form.stop_loss_type) body.stop_loss_type = form.stop_loss_type as OperationCreate['stop_loss_type'];
  if (form.take_profit_type) body.take_profit_type = form.take_profit_type as OperationCreate['take_profit_type'];
  if (form.crash_recovery_mode) {
    body.crash_recovery_mode = form.crash_recovery_mode as OperationCreate['crash_recovery_mode'];
  }
  for (const field of NUMBER_FIELDS) {
    const text = form[field].trim();
    if (text !== '') body[field as NumberField] = Number(text);
  }
  return body;
}

function FieldError({ field, errors }: { field: string; errors: FormErrors }) {
  const message = errors.fields[field];
  if (!message) return null;
  return <FormHelperText error data-testid={`field-error-${field}`}>{message}</FormHelperText>;
}

function Panel({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Paper sx={{ p: 2 }}>
      <Typography variant="subtitle2" component="h2" sx={{ mb: 2 }}>{title}</Typography>
      {children}
    </Paper>
  );
}

function useCreateOperation() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: OperationCreate) => call<Operation>(api.POST('/api/operations', { body })),
    onSuccess: (operation) => {
      client.setQueryData(queryKeys.operationDoc(operation.id), operation);
      void client.invalidateQueries({ queryKey: queryKeys.operationLists });
      void client.invalidateQueries({ queryKey: queryKeys.overallStats });
    },
  });
}

export default function CreateOperationPage() {
  const strategies = useStrategies();
  if (strategies.isPending) return <Loading label="Loading strategies…" />;
  if (strategies.isError) {
    return <ErrorState error={strategies.error} title="Could not load the strategies"
      onRetry={() => void strategies.refetch()} />;
  }
  return <CreateOperationForm strategies={strategies.data} />;
}

function defaultStrategy(strategies: readonly StrategyInfo[]): string {
  return strategies.find((s) => s.name === 'MomentumStrategy')?.name ?? strategies[0]?.name ?? '';
}

function CreateOperationForm({ strategies }: { strategies: StrategyInfo[] }) {
  const navigate = useNavigate();
  const { can } = useAuth();
  const mayCreate = can('trader');
  const create = useCreateOperation();
  const [form, setForm] = useState<FormState>(() => ({ ...EMPTY_FORM, strategy_name: defaultStrategy(strategies) }));
  const strategy = strategies.find((s) => s.name === form.strategy_name);
  const fields = useMemo(() => paramFields(strategy?.params_schema), [strategy]);
  const [params, setParams] = useState<ParamValues>(() => initialValues(fields));
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [paramErrors, setParamErrors] = useState<Record<string, string>>({});

  const set = <K extends keyof FormState>(key: K, value: FormState[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    setErrors((e) => {
      if (!e.fields[key]) return e;
      const fields = { ...e.fields };
      delete fields[key];
      return { ...e, fields };
    });
  };

  const chooseStrategy = (name: string) => {
    const next = strategies.find((s) => s.name === name);
    setForm((f) => {
      const needed = next?.higher_bar_sizes ?? [];
      const sizes = [...f.bar_sizes, ...needed.filter((s) => !f.bar_sizes.includes(s))];
      return { ...f, strategy_name: name, bar_sizes: sizes };
    });
    setParams(initialValues(paramFields(next?.params_schema)));
    setParamErrors({});
  };

  const chooseBarSizes = (sizes: string[]) => {
    setForm((f) => ({
      ...f,
      bar_sizes: sizes,
      primary_bar_size: sizes.includes(f.primary_bar_size) ? f.primary_bar_size : (sizes[0] ?? ''),
    }));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const local = validateParams(fields, params);
    const numbers = numberErrors(form);
    setParamErrors(local);
    setErrors({ ...NO_ERRORS, fields: numbers });
    if (Object.keys(local).length > 0 || Object.keys(numbers).length > 0) return;
    try {
      const operation = await create.mutateAsync(requestBody(form, strategyConfig(fields, params)));
      navigate(`/operations/${operation.id}`);
    } catch (error) {
      const found = formErrors(error, (field) => SHOWN_FIELDS.has(field) || field.startsWith('strategy_config.'));
      const byParam: Record<string, string> = {};
      const fieldsShown: Record<string, string> = {};
      for (const [field, message] of Object.entries(found.fields)) {
        const name = field.startsWith('strategy_config.') ? field.slice('strategy_config.'.length) : null;
        if (name !== null && fields.some((f) => f.name === name)) byParam[name] = message;
        else if (name !== null) found.otherFields.push([field, message]);
        else fieldsShown[field] = message;
      }
      setParamErrors(byParam);
      setErrors({ ...found, fields: fieldsShown });
    }
  };

  const busy = create.isPending;
  const stopHint = STOP_LOSS_TYPES.find((t) => t.value === form.stop_loss_type)?.hint;
  const takeHint = TAKE_PROFIT_TYPES.find((t) => t.value === form.take_profit_type)?.hint;
  const hasErrors = errors.general !== null || errors.otherFields.length > 0;

  const numberInput = (field: NumberField, label: string, helper: string, testId?: string) => (
    <>
      <TextField fullWidth label={label} type="number" value={form[field]} disabled={busy}
        onChange={(e) => set(field, e.target.value)} error={Boolean(errors.fields[field])}
        placeholder="default" helperText={helper}
        slotProps={{ inputLabel: { shrink: true }, htmlInput: { step: 'any', 'data-testid': testId ?? `create-${field}` } }} />
      <FieldError field={field} errors={errors} />
    </>
  );

  return (
    <Box component="form" noValidate onSubmit={(e) => void submit(e)} data-testid="create-form"
      sx={{ display: 'flex', flexDirection: 'column', gap: 2, maxWidth: 1100 }}>
      <Typography variant="h5" component="h1">New operation</Typography>
      {!mayCreate && (
        <Alert severity="info" data-testid="create-forbidden">Your role can read operations but not create them.</Alert>
      )}

      <Panel title="Market">
        <Grid container spacing={2}>
          <Grid size={{ xs: 12, sm: 4 }}>
            <TextField fullWidth label="Asset" value={form.asset} disabled={busy}
              onChange={(e) => set('asset', e.target.value)} error={Boolean(errors.fields.asset)}
              helperText="BASE-QUOTE, e.g. USD-CAD"
              slotProps={{ inputLabel: { shrink: true }, htmlInput: { 'data-testid': 'create-asset' } }} />
            <FieldError field="asset" errors={errors} />
          </Grid>
          <Grid size={{ xs: 12, sm: 4 }}>
            <TextField fullWidth select label="Bar sizes" value={form.bar_sizes} disabled={busy}
              error={Boolean(errors.fields.bar_sizes)}
              helperText="Ctrl/Cmd-click to choose several"
              onChange={(e) => {
                const select = e.target as unknown as HTMLSelectElement;
                chooseBarSizes(Array.from(select.selectedOptions, (o) => o.value));
              }}
              slotProps={{
                select: { native: true, multiple: true },
                inputLabel: { shrink: true },
                htmlInput: { 'data-testid': 'create-bar-sizes', size: BAR_SIZES.length },
              }}>
              {BAR_SIZES.map((size) => <option key={size} value={size}>{size}</option>)}
            </TextField>
            <FieldError field="bar_sizes" errors={errors} />
          </Grid>
          <Grid size={{ xs: 12, sm: 4 }}>
            <TextField fullWidth select label="Primary bar size" value={form.primary_bar_size} disabled={busy}
              error={Boolean(errors.fields.primary_bar_size)}
              helperText="Drives the strategy; the others are read once closed"
              onChange={(e) => set('primary_bar_size', e.target.value)}
              slotProps={{
                select: { native: true },
                inputLabel: { shrink: true },
                htmlInput: { 'data-testid': 'create-primary-bar-size' },
              }}>
              {form.bar_sizes.map((size) => <option key={size} value={size}>{size}</option>)}
            </TextField>
            <FieldError field="primary_bar_size" errors={errors} />
          </Grid>
        </Grid>
      </Panel>

      <Panel title="Strategy">
        <Grid container spacing={2}>
          <Grid size={{ xs: 12 }}>
            <TextField fullWidth select label="Strategy" value={form.strategy_name} disabled={busy}
              error={Boolean(errors.fields.strategy_name)} helperText={strategy?.description}
              onChange={(e) => chooseStrategy(e.target.value)}
              slotProps={{ select: { native: true }, inputLabel: { shrink: true }, htmlInput: { 'data-testid': 'create-strategy' } }}>
              {strategies.map((s) => <option key={s.name} value={s.name}>{s.name}</option>)}
            </TextField>
            <FieldError field="strategy_name" errors={errors} />
          </Grid>
          <Grid size={{ xs: 12 }}>
            <StrategyParamsForm fields={fields} values={params} errors={paramErrors} disabled={busy}
              onChange={(name, value) => {
                setParams((p) => ({ ...p, [name]: value }));
                setParamErrors((e) => {
                  if (!e[name]) return e;
                  const next = { ...e };
                  delete next[name];
                  return next;
                });
              }} />
          </Grid>
        </Grid>
      </Panel>

      <Panel title="Risk">
        <Grid container spacing={2}>
          <Grid size={{ xs: 12, sm: 6, md: 3 }}>
            <TextField fullWidth select label="Stop-loss type" value={form.stop_loss_type} disabled={busy}
              error={Boolean(errors.fields.stop_loss_type)} onChange={(e) => set('stop_loss_type', e.target.value)}
              slotProps={{ select: { native: true }, inputLabel: { shrink: true }, htmlInput: { 'data-testid': 'create-stop-loss-type' } }}>
              <option value="">Default (config)</option>
              {STOP_LOSS_TYPES.map((t) => <option key={t.value} value={t.value}>{t.label}</option>)}
            </TextField>
            <FieldError field="stop_loss_type" errors={errors} />
          </Grid>
          <Grid size={{ xs: 12, sm: 6, md: 3 }}>
            {numberInput('stop_loss_value', 'Stop-loss value', stopHint ?? 'ATR multiple, fraction or distance', 'create-stop-loss-value')}
          </Grid>
          <Grid size={{ xs: 12, sm: 6, md: 3 }}>
            <TextField fullWidth select label="Take-profit type" value={form.take_profit_type} disabled={busy}
              error={Boolean(errors.fields.take_profit_type)} onChange={(e) => set('take_profit_type', e.target.value)}
              slotProps={{ select: { native: true }, inputLabel: { shrink: true }, htmlInput: { 'data-testid': 'create-take-profit-type' } }}>
              <option value="">Default (config)</option>
              {TAKE_PROFIT_TYPES.map((t) => <option key={t.value} value={t.value}>{t.label}</option>)}
            </TextField>
            <FieldError field="take_profit_type" errors={errors} />
          </Grid>
          <Grid size={{ xs: 12, sm: 6, md: 3 }}>
            {numberInput('take_profit_value', 'Take-profit value', takeHint ?? 'as for the stop, or a risk/reward ratio', 'create-take-profit-value')}
          </Grid>
          <Grid size={{ xs: 12, sm: 6, md: 3 }}>
            {numberInput('quantity', 'Quantity', 'units of the base asset, e.g. 10000', 'create-quantity')}
          </Grid>
          <Grid size={{ xs: 12, sm: 6, md: 3 }}>
            {numberInput('max_daily_loss', 'Max daily loss', 'quote currency per UTC day')}
          </Grid>
          <Grid size={{ xs: 12, sm: 6, md: 3 }}>
            {numberInput('initial_capital', 'Initial capital', 'quote currency')}
          </Grid>
          <Grid size={{ xs: 12, sm: 6, md: 3 }}>
            {numberInput('data_retention_bars', 'Bars kept', 'per bar size (≥ 50, above the warm-up)')}
          </Grid>
        </Grid>
      </Panel>

      <Panel title="Crash recovery">
        <Grid container spacing={2}>
          <Grid size={{ xs: 12, sm: 6 }}>
            <TextField fullWidth select label="Crash-recovery mode" value={form.crash_recovery_mode} disabled={busy}
              error={Boolean(errors.fields.crash_recovery_mode)} onChange={(e) => set('crash_recovery_mode', e.target.value)}
              helperText="What a restart does with an open position"
              slotProps={{ select: { native: true }, inputLabel: { shrink: true }, htmlInput: { 'data-testid': 'create-crash-recovery-mode' } }}>
              <option value="">Default (config)</option>
              {CRASH_RECOVERY_MODES.map((m) => <option key={m.value} value={m.value}>{m.label}</option>)}
            </TextField>
            <FieldError field="crash_recovery_mode" errors={errors} />
          </Grid>
          <Grid size={{ xs: 12, sm: 6 }}>
            {numberInput('emergency_stop_loss_pct', 'Emergency stop', 'fraction of the entry notional, e.g. 0.05')}
          </Grid>
          <Grid size={{ xs: 12 }}>
            <FormControlLabel disabled={busy}
              label="This operation may trade a LIVE account (real money)"
              control={(
                <Checkbox checked={form.confirm_live} onChange={(e) => set('confirm_live', e.target.checked)}
                  slotProps={{ input: { 'aria-label': 'confirm live' } }} />
              )} />
            <FieldError field="confirm_live" errors={errors} />
          </Grid>
        </Grid>
      </Panel>

      {hasErrors && (
        <Alert severity="error" data-testid="create-error">
          <AlertTitle>The operation was not created</AlertTitle>
          {errors.general && <div>{errors.general}</div>}
          {errors.otherFields.map(([field, message]) => (
            <div key={field} data-testid={`field-error-${field}`}><strong>{field}</strong>: {message}</div>
          ))}
        </Alert>
      )}

      <Box sx={{ display: 'flex', gap: 1 }}>
        <Button type="submit" variant="contained" disabled={busy || !mayCreate} data-testid="create-submit">
          {busy ? 'Creating…' : 'Create operation'}
        </Button>
        <Button onClick={() => navigate('/operations')} disabled={busy}>Cancel</Button>
      </Box>
    </Box>
  );
}
