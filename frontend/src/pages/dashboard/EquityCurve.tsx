import { useEffect, useRef } from 'react';
import { Box } from '@mui/material';
import { useTheme } from '@mui/material/styles';
import { BaselineSeries, ColorType, createChart, type IChartApi, type ISeriesApi, type UTCTimestamp } from 'lightweight-charts';
import { formatDateTime } from '../../format/format';
import type { EquityPoint } from './equity';

const dayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

/** Cumulative realized P/L as a baseline chart (green above 0, red below), times in the user's zone. */
export function EquityCurve({ points, height = 260 }: { points: EquityPoint[]; height?: number }) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const series = useRef<ISeriesApi<'Baseline'> | null>(null);
  const theme = useTheme();

  useEffect(() => {
    if (!container.current) return;
    const instance = createChart(container.current, {
      autoSize: true,
      layout: {
        background: { type: ColorType.Solid, color: 'transparent' },
        textColor: theme.palette.text.secondary,
        fontFamily: theme.typography.fontFamily,
      },
      grid: { vertLines: { color: theme.palette.divider }, horzLines: { color: theme.palette.divider } },
      rightPriceScale: { borderColor: theme.palette.divider },
      timeScale: {
        borderColor: theme.palette.divider,
        timeVisible: true,
        tickMarkFormatter: (time: unknown) => (typeof time === 'number' ? dayFormat.format(new Date(time * 1000)) : String(time)),
      },
      localization: {
        timeFormatter: (time: unknown) => (typeof time === 'number' ? formatDateTime(time) : String(time)),
        priceFormatter: (price: number) => price.toFixed(2),
      },
    });
    series.current = instance.addSeries(BaselineSeries, {
      baseValue: { type: 'price', price: 0 },
      topLineColor: theme.palette.success.main,
      bottomLineColor: theme.palette.error.main,
      lineWidth: 2,
    });
    chart.current = instance;
    return () => {
      instance.remove();
      chart.current = null;
      series.current = null;
    };
  }, [theme]);

  useEffect(() => {
    series.current?.setData(points.map((p) => ({ time: p.time as UTCTimestamp, value: p.value })));
    chart.current?.timeScale().fitContent();
  }, [points, theme]);

  return <Box ref={container} data-points={points.length} sx={{ height, width: '100%' }} />;
}
