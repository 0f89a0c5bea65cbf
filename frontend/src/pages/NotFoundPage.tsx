import { Button } from '@mui/material';
import { Link } from 'react-router';
import { EmptyState } from '../components/states';

export function NotFoundPage() {
  return (
    <EmptyState title="No such page">
      <Button component={Link} to="/">Back to the dashboard</Button>
    </EmptyState>
  );
}
