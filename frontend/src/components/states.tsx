/** Loading, empty and error states, and a wrapper that picks one for a query. */
import type { ReactNode } from 'react';
import { Alert, AlertTitle, Box, Button, CircularProgress, Typography } from '@mui/material';
import InboxOutlinedIcon from '@mui/icons-material/InboxOutlined';
import type { UseQueryResult } from '@tanstack/react-query';
import { errorMessage } from '../api/errors';

export function Loading({ label = 'Loading…', inline = false }: { label?: string; inline?: boolean }) {
  return (
    <Box role="status" aria-live="polite" data-testid="loading"
      sx={{ display: 'flex', alignItems: 'center', gap: 1.5, p: inline ? 0.5 : 3,
        justifyContent: inline ? 'flex-start' : 'center', color: 'text.secondary' }}>
      <CircularProgress size={inline ? 14 : 22} />
      <Typography variant="body2">{label}</Typography>
    </Box>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <Box data-testid="empty-state" sx={{ p: 3, textAlign: 'center', color: 'text.secondary' }}>
      <InboxOutlinedIcon fontSize="large" sx={{ opacity: 0.5 }} />
      <Typography variant="subtitle2">{title}</Typography>
      {children && <Typography variant="body2" component="div">{children}</Typography>}
    </Box>
  );
}

export function ErrorState({ error, title = 'Could not load', onRetry }: {
  error: unknown;
  title?: string;
  onRetry?: () => void;
}) {
  return (
    <Alert severity="error" data-testid="error-state" sx={{ m: 1 }}
      action={onRetry && <Button color="inherit" size="small" onClick={onRetry}>Retry</Button>}>
      <AlertTitle>{title}</AlertTitle>
      {errorMessage(error)}
    </Alert>
  );
}

type QueryViewProps<T> = {
  query: UseQueryResult<T>;
  children: (data: T) => ReactNode;
  /** shown instead of `children` when true for the data */
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  loadingLabel?: string;
};

/**
 * Loading / error / empty / data for one query. Data already shown stays
 * while a refetch fails (a small warning is added instead).
 */
export function QueryView<T>({ query, children, isEmpty, empty, loadingLabel }: QueryViewProps<T>) {
  if (query.isPending) return <Loading label={loadingLabel} />;
  if (query.isError && query.data === undefined) {
    return <ErrorState error={query.error} onRetry={() => void query.refetch()} />;
  }
  const data = query.data as T;
  return (
    <>
      {query.isError && (
        <Alert severity="warning" sx={{ mb: 1 }}>Showing earlier data: {errorMessage(query.error)}</Alert>
      )}
      {isEmpty?.(data) ? empty ?? <EmptyState title="Nothing here yet" /> : children(data)}
    </>
  );
}
