/**
 * The routes. F2's pages are code-split (lazy) and registered here:
 * /operations/new -> pages/create/CreateOperationPage.tsx (default export),
 * /operations/:id -> pages/operation/OperationDetailPage.tsx (default export).
 */
import { lazy } from 'react';
import type { RouteObject } from 'react-router';
import { Layout } from './components/Layout';
import { RequireAuth } from './auth/RequireAuth';
import { LoginPage } from './pages/LoginPage';
import { DashboardPage } from './pages/dashboard/DashboardPage';
import { OperationsPage } from './pages/operations/OperationsPage';
import { SettingsPage } from './pages/settings/SettingsPage';
import { NotFoundPage } from './pages/NotFoundPage';

const CreateOperationPage = lazy(() => import('./pages/create/CreateOperationPage'));
const OperationDetailPage = lazy(() => import('./pages/operation/OperationDetailPage'));

export const routes: RouteObject[] = [
  { path: '/login', element: <LoginPage /> },
  {
    path: '/',
    element: <RequireAuth><Layout /></RequireAuth>,
    children: [
      { index: true, element: <DashboardPage /> },
      { path: 'operations', element: <OperationsPage /> },
      { path: 'operations/new', element: <CreateOperationPage /> },
      { path: 'operations/:id', element: <OperationDetailPage /> },
      { path: 'settings', element: <SettingsPage /> },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
];
