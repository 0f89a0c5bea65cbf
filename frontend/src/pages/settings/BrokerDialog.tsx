import { useState } from 'react';
import {
  Alert, Button, Checkbox, Dialog, DialogActions, DialogContent, DialogTitle, FormControlLabel, FormHelperText,
  Stack, Switch, TextField,
} from '@mui/material';
import { useSaveBroker } from '../../api/hooks';
import type { BrokerConfig, BrokerConfigCreate, BrokerConfigUpdate, BrokerType } from '../../api/models';
import { errorMessage, fieldErrors } from '../../api/errors';

type Form = {
  broker_name: BrokerType;
  account_type: 'PAPER' | 'LIVE';
  host: string;
  port: string;
  client_id: string;
  account_id: string;
  api_key: string;
  is_active: boolean;
  confirm_live: boolean;
};

function initialForm(config: BrokerConfig | null): Form {
  return {
    broker_name: config?.broker_name ?? 'IBKR',
    account_type: config?.account_type ?? 'PAPER',
    host: config?.host ?? '',
    port: config?.port?.toString() ?? '',
    client_id: config?.client_id?.toString() ?? '',
    account_id: config?.account_id ?? '',
    api_key: '',
    is_active: config?.is_active ?? true,
    confirm_live: false,
  };
}

/**
 * The request body: empty fields are left out (on edit: unchanged), the API
 * key only when one was typed (it is write-only), numbers as numbers.
 */
export function brokerBody(form: Form, editing: boolean): BrokerConfigCreate | BrokerConfigUpdate {
  const body: BrokerConfigUpdate = {
    account_type: form.account_type,
    is_active: form.is_active,
    confirm_live: form.account_type === 'LIVE' && form.confirm_live,
  };
  if (form.host.trim()) body.host = form.host.trim();
  if (form.port.trim()) body.port = Number(form.port);
  if (form.client_id.trim()) body.client_id = Number(form.client_id);
  if (form.account_id.trim()) body.account_id = form.account_id.trim();
  if (form.api_key) body.api_key = form.api_key;
  return editing ? body : { ...body, broker_name: form.broker_name };
}

const BROKERS: BrokerType[] = ['PAPER', 'IBKR', 'OANDA'];

/** Create or edit a broker configuration (admin). The API key is write-only. */
export function BrokerDialog({ config, open, onClose }: { config: BrokerConfig | null; open: boolean; onClose: () => void }) {
  const [form, setForm] = useState<Form>(() => initialForm(config));
  const save = useSaveBroker();
  const editing = config !== null;
  const errors = fieldErrors(save.error);
  const set = <K extends keyof Form>(key: K, value: Form[K]) => setForm((f) => ({ ...f, [key]: value }));
  const known = new Set(['broker_name', 'account_type', 'host', 'port', 'client_id', 'account_id', 'api_key', 'is_active', 'confirm_live']);
  const otherErrors = save.error && Object.keys(errors).every((k) => !known.has(k));

  const submit = async () => {
    try {
      await save.mutateAsync({ id: config?.id, body: brokerBody(form, editing) });
      onClose();
    } catch {
      // shown from save.error
    }
  };

  const text = (key: 'host' | 'port' | 'client_id' | 'account_id', label: string, type = 'text') => (
    <TextField label={label} type={type} value={form[key]} onChange={(e) => set(key, e.target.value)}
      error={Boolean(errors[key])} helperText={errors[key]} fullWidth
      slotProps={{ htmlInput: { 'data-testid': `broker-${key}` } }} />
  );

  return (
    <Dialog open={open} onClose={onClose} maxWidth="xs" fullWidth data-testid="broker-dialog">
      <DialogTitle>{editing ? `Edit ${config.broker_name} configuration` : 'New broker configuration'}</DialogTitle>
      <DialogContent>
        <Stack spacing={2} sx={{ mt: 1 }}>
          <TextField select label="Broker" value={form.broker_name} disabled={editing}
            onChange={(e) => set('broker_name', e.target.value as BrokerType)}
            error={Boolean(errors.broker_name)} helperText={errors.broker_name}
            slotProps={{ select: { native: true }, htmlInput: { 'data-testid': 'broker-broker_name' } }}>
            {BROKERS.map((b) => <option key={b} value={b}>{b}</option>)}
          </TextField>
          <TextField select label="Account" value={form.account_type}
            onChange={(e) => set('account_type', e.target.value as Form['account_type'])}
            error={Boolean(errors.account_type)} helperText={errors.account_type}
            slotProps={{ select: { native: true }, htmlInput: { 'data-testid': 'broker-account_type' } }}>
            <option value="PAPER">PAPER</option>
            <option value="LIVE">LIVE (real money)</option>
          </TextField>
          {form.broker_name === 'IBKR' && (
            <>
              {text('host', 'Host')}
              {text('port', 'Port (7497 paper, 7496 live)', 'number')}
              {text('client_id', 'Client id', 'number')}
            </>
          )}
          {text('account_id', 'Account id')}
          {form.broker_name === 'OANDA' && (
            <TextField label="API key" type="password" value={form.api_key} onChange={(e) => set('api_key', e.target.value)}
              autoComplete="new-password" error={Boolean(errors.api_key)}
              helperText={errors.api_key ?? (config?.api_key_set
                ? 'A key is set. It is never shown; type a new one to replace it.'
                : 'Write-only: it is stored but never shown again.')}
              slotProps={{ htmlInput: { 'data-testid': 'broker-api_key' } }} />
          )}
          <FormControlLabel label="Active"
            control={<Switch checked={form.is_active} onChange={(e) => set('is_active', e.target.checked)} />} />
          {form.account_type === 'LIVE' && config?.account_type !== 'LIVE' && (
            <div>
              <FormControlLabel label="I confirm this account trades real money"
                control={<Checkbox checked={form.confirm_live} onChange={(e) => set('confirm_live', e.target.checked)}
                  slotProps={{ input: { 'data-testid': 'broker-confirm_live' } as object }} />} />
              {errors.confirm_live && <FormHelperText error>{errors.confirm_live}</FormHelperText>}
            </div>
          )}
          {otherErrors && <Alert severity="error">{errorMessage(save.error)}</Alert>}
        </Stack>
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose} disabled={save.isPending}>Cancel</Button>
        <Button variant="contained" onClick={() => void submit()} disabled={save.isPending} data-testid="broker-save">
          {save.isPending ? 'Saving…' : 'Save'}
        </Button>
      </DialogActions>
    </Dialog>
  );
}
