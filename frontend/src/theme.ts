import { createTheme } from '@mui/material/styles';

/** A dense dark theme with tabular numbers, for screens full of prices. */
export const theme = createTheme({
  palette: {
    mode: 'dark',
    primary: { main: '#4f9cf9' },
    secondary: { main: '#b388ff' },
    success: { main: '#26a69a' },
    error: { main: '#ef5350' },
    warning: { main: '#ffb74d' },
    background: { default: '#0f1419', paper: '#161c24' },
    divider: 'rgba(255,255,255,0.09)',
  },
  shape: { borderRadius: 6 },
  typography: {
    fontFamily: '"Inter", "Roboto", "Segoe UI", system-ui, -apple-system, sans-serif',
    fontSize: 13,
    h5: { fontWeight: 600, fontSize: '1.25rem' },
    h6: { fontWeight: 600, fontSize: '1.05rem' },
    subtitle2: { fontWeight: 600 },
  },
  components: {
    MuiCssBaseline: {
      styleOverrides: { body: { fontVariantNumeric: 'tabular-nums' } },
    },
    MuiTable: { defaultProps: { size: 'small' } },
    MuiTableCell: {
      styleOverrides: {
        root: { fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' },
        head: { fontWeight: 600, color: 'rgba(255,255,255,0.7)' },
      },
    },
    MuiButton: { defaultProps: { size: 'small', disableElevation: true } },
    MuiIconButton: { defaultProps: { size: 'small' } },
    MuiTextField: { defaultProps: { size: 'small' } },
    MuiPaper: { defaultProps: { variant: 'outlined' }, styleOverrides: { root: { backgroundImage: 'none' } } },
    MuiAppBar: { defaultProps: { elevation: 0, color: 'default' } },
  },
});
