import { useState } from 'react';
import { Button, Chip, Table, TableBody, TableCell, TableHead, TableRow } from '@mui/material';
import AddIcon from '@mui/icons-material/Add';
import { useBrokers } from '../../api/hooks';
import type { BrokerConfig } from '../../api/models';
import { useAuth } from '../../auth/useAuth';
import { Section } from '../../components/Section';
import { EmptyState, QueryView } from '../../components/states';
import { formatDateTime } from '../../format/format';
import { BrokerDialog } from './BrokerDialog';

function endpoint(config: BrokerConfig): string {
  if (config.host || config.port) return `${config.host ?? ''}${config.port ? `:${config.port}` : ''}`;
  return '–';
}

/** Broker configurations: list for everyone, create and edit for admins. Secrets never shown. */
export function BrokerConfigs() {
  const brokers = useBrokers();
  const { can } = useAuth();
  const admin = can('admin');
  const [editing, setEditing] = useState<BrokerConfig | 'new' | null>(null);

  return (
    <Section testId="broker-configs" dense title="Broker configurations"
      action={admin && <Button startIcon={<AddIcon />} onClick={() => setEditing('new')} data-testid="broker-add">Add</Button>}>
      <QueryView query={brokers} isEmpty={(d) => d.length === 0}
        empty={<EmptyState title="No broker configuration stored">
          The backend uses BROKER_TYPE and the IBKR_* / OANDA_* environment settings.
        </EmptyState>}>
        {(data) => (
          <Table>
            <TableHead>
              <TableRow>
                <TableCell>Broker</TableCell>
                <TableCell>Account</TableCell>
                <TableCell>Endpoint</TableCell>
                <TableCell>Client id</TableCell>
                <TableCell>Account id</TableCell>
                <TableCell>API key</TableCell>
                <TableCell>Active</TableCell>
                <TableCell>Updated</TableCell>
                <TableCell />
              </TableRow>
            </TableHead>
            <TableBody>
              {data.map((config) => (
                <TableRow key={config.id} data-testid={`broker-row-${config.id}`}>
                  <TableCell>{config.broker_name}</TableCell>
                  <TableCell>
                    <Chip size="small" variant="outlined" label={config.account_type}
                      color={config.account_type === 'LIVE' ? 'error' : 'default'} />
                  </TableCell>
                  <TableCell>{endpoint(config)}</TableCell>
                  <TableCell>{config.client_id ?? '–'}</TableCell>
                  <TableCell>{config.account_id ?? '–'}</TableCell>
                  <TableCell data-testid={`broker-key-${config.id}`}>{config.api_key_set ? 'set' : 'not set'}</TableCell>
                  <TableCell>{config.is_active ? 'yes' : 'no'}</TableCell>
                  <TableCell>{formatDateTime(config.updated_at)}</TableCell>
                  <TableCell align="right">
                    {admin && <Button onClick={() => setEditing(config)} data-testid={`broker-edit-${config.id}`}>Edit</Button>}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
      </QueryView>
      {editing !== null && (
        <BrokerDialog key={editing === 'new' ? 'new' : editing.id} open config={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)} />
      )}
    </Section>
  );
}
