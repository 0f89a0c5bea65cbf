import type { ReactNode } from 'react';
import { Box, Paper, Typography } from '@mui/material';

/** A titled panel of a page. */
export function Section({ title, action, children, testId, dense = false }: {
  title: ReactNode;
  action?: ReactNode;
  children: ReactNode;
  testId?: string;
  dense?: boolean;
}) {
  return (
    <Paper data-testid={testId} sx={{ height: '100%', display: 'flex', flexDirection: 'column' }}>
      <Box sx={{ display: 'flex', alignItems: 'center', px: 2, py: 1, borderBottom: 1, borderColor: 'divider', minHeight: 44 }}>
        <Typography variant="subtitle2" component="h2" sx={{ flexGrow: 1 }}>{title}</Typography>
        {action}
      </Box>
      <Box sx={{ p: dense ? 0 : 2, flexGrow: 1, overflow: 'auto' }}>{children}</Box>
    </Paper>
  );
}
