//! Line charts: one line per series on shared axes (linear or log), a legend at the
//! right; the overlay, loss, sensitivity and training figures are charts or built
//! from their parts.

use super::axis::Axis;
use super::draw::canvas::{Canvas, Drawing};
use super::draw::geometry::{clip_polygon, clip_polyline, thin};
use super::draw::style::{GRID, INK, TICK_LENGTH, TICK_SIZE, WHITE};
use super::draw::text::{ellipsize, text_width, Label, ASCENT, EM_PER_SIZE};
use super::error::FigureError;
use super::layout::{Panel, Rect};
use super::parts::{
    beside_legend, cover_outside, draw_axes, draw_legend, draw_title, Entry, Shape, HEADER, OUTER,
};
use crate::landscape::Window;
use plotters::backend::DrawingBackend;
use plotters::style::text_anchor::HPos;
use plotters::style::{Color, FontStyle, RGBAColor};

/// A line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    /// Its legend entry.
    pub entry: Entry,
    /// Data points in order; a NaN coordinate breaks the line.
    pub points: Vec<(f64, f64)>,
    /// A dot at every point.
    pub dots: bool,
    /// A large marker: the point that matters most (e.g. the best rate).
    pub best: Option<(f64, f64)>,
    /// A cross: where the line stopped because the run diverged.
    pub cross: Option<Cross>,
    /// A shaded band behind every line, from `low` to `high` at each `x`, given as
    /// `(x, low, high)` in order (e.g. the spread over seeds); a NaN breaks it.
    pub band: Vec<(f64, f64, f64)>,
    /// A thin faint line behind every line (e.g. the raw values `points` smooths).
    pub faint: Vec<(f64, f64)>,
    /// A marker at every `n`th point, from the first: the entry's, else a circle.
    pub marks: Option<usize>,
}

impl Series {
    /// A plain line: no dots, markers, band or faint line.
    pub fn line(entry: Entry, points: Vec<(f64, f64)>) -> Series {
        Series {
            entry,
            points,
            dots: false,
            best: None,
            cross: None,
            band: Vec::new(),
            faint: Vec::new(),
            marks: None,
        }
    }
}

/// A cross on a chart, with a note beside it (e.g. where a run diverged).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cross {
    /// Where, in data units.
    pub at: (f64, f64),
    /// Said beside it, in the series' colour.
    pub note: String,
}

/// A line chart: one line per series on shared axes, a legend at the right.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Chart {
    /// The header's bold part.
    pub title: String,
    /// The header's muted part.
    pub subtitle: String,
    /// Below the x axis.
    pub x_title: String,
    /// Above the y axis.
    pub y_title: String,
    pub x: Axis,
    pub y: Axis,
    pub series: Vec<Series>,
}

/// Where a chart's parts go.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ChartLayout {
    pub width: u32,
    pub height: u32,
    /// The plotting area, mapping the axes' ranges (in scale units).
    pub panel: Panel,
    /// Top left of the legend.
    pub legend: (f64, f64),
}

/// Room left of the plot for tick labels.
const CHART_LEFT: u32 = 80;
/// Room between the header and the plot, for the y axis title.
const CHART_TOP: u32 = 30;
/// Room below the plot for tick labels and the x axis title.
const CHART_BOTTOM: u32 = 60;
const CHART_WIDTH: u32 = 620;
const CHART_HEIGHT: u32 = 420;

impl Chart {
    /// The geometry: the plot, then the legend, as tall as its entries need.
    pub fn layout(&self) -> ChartLayout {
        let plot = Rect {
            x: (OUTER + CHART_LEFT) as i32,
            y: (HEADER + CHART_TOP) as i32,
            width: CHART_WIDTH,
            height: CHART_HEIGHT,
        };
        let (legend_x, width, height) = beside_legend(plot, self.series.len(), CHART_BOTTOM);
        ChartLayout {
            width,
            height,
            panel: Panel {
                cell: Rect {
                    x: 0,
                    y: HEADER as i32,
                    width,
                    height: height - HEADER,
                },
                plot,
                window: Window {
                    x_min: self.x.lo,
                    x_max: self.x.hi,
                    y_min: self.y.lo,
                    y_max: self.y.hi,
                },
            },
            legend: (legend_x as f64, plot.y as f64),
        }
    }

    /// Draws the line through data `points` (a NaN breaks it) clipped to the plot;
    /// returns the points in scale units.
    fn line<DB: DrawingBackend>(
        &self,
        canvas: &mut Canvas<DB>,
        panel: &Panel,
        points: &[(f64, f64)],
        colour: RGBAColor,
        width: f64,
        dash: Option<(f64, f64)>,
    ) -> Result<Vec<(f64, f64)>, FigureError> {
        let units: Vec<(f64, f64)> = points
            .iter()
            .map(|&(x, y)| (self.x.unit(x), self.y.unit(y)))
            .collect();
        for stretch in units.split(|(x, y)| !(x.is_finite() && y.is_finite())) {
            for piece in clip_polyline(stretch, &panel.window) {
                let pixels = thin(piece.iter().map(|&(x, y)| panel.to_pixel(x, y)), 0.5);
                canvas.styled_line(&pixels, colour, width, dash)?;
            }
        }
        Ok(units)
    }

    /// A data point in figure pixels.
    pub fn to_pixel(&self, layout: &ChartLayout, (x, y): (f64, f64)) -> (f64, f64) {
        layout.panel.to_pixel(self.x.unit(x), self.y.unit(y))
    }
}

impl Drawing for Chart {
    fn size(&self) -> (u32, u32) {
        let l = self.layout();
        (l.width, l.height)
    }

    fn draw<DB: DrawingBackend>(&self, canvas: &mut Canvas<DB>) -> Result<(), FigureError> {
        let layout = self.layout();
        let panel = layout.panel;
        let plot = panel.plot;
        let x_ticks: Vec<(f64, String)> = self
            .x
            .ticks(8)
            .into_iter()
            .map(|(u, s)| (panel.to_pixel(u, panel.window.y_min).0, s))
            .collect();
        let y_ticks: Vec<(f64, String)> = self
            .y
            .ticks(7)
            .into_iter()
            .map(|(u, s)| (panel.to_pixel(panel.window.x_min, u).1, s))
            .collect();
        for (px, _) in &x_ticks {
            canvas.polyline(
                &[(*px, plot.y as f64), (*px, plot.bottom() as f64)],
                GRID.to_rgba(),
                1.0,
            )?;
        }
        for (py, _) in &y_ticks {
            canvas.polyline(
                &[(plot.x as f64, *py), (plot.right() as f64, *py)],
                GRID.to_rgba(),
                1.0,
            )?;
        }
        // Bands, then faint lines, under every line.
        for s in &self.series {
            let colour = s.entry.colour.mix(BAND_OPACITY);
            for polygon in band_polygons(&s.band, self.x, self.y, &panel.window) {
                let pixels: Vec<(f64, f64)> =
                    polygon.iter().map(|&(x, y)| panel.to_pixel(x, y)).collect();
                canvas.fill_polygon(&pixels, colour)?;
            }
        }
        for s in &self.series {
            let colour = s.entry.colour.mix(FAINT_OPACITY);
            self.line(canvas, &panel, &s.faint, colour, 1.0, None)?;
        }
        let mut notes = Vec::new();
        for s in &self.series {
            let colour = s.entry.colour.to_rgba();
            let units = self.line(canvas, &panel, &s.points, colour, 2.0, s.entry.dash)?;
            if s.dots {
                for &(x, y) in &units {
                    if panel.window.contains(x, y) {
                        canvas.disc(panel.to_pixel(x, y), 2.5, colour)?;
                    }
                }
            }
            if let Some(every) = s.marks {
                let shape = s.entry.marker.unwrap_or(Shape::Circle);
                for &(x, y) in units.iter().step_by(every.max(1)) {
                    if panel.window.contains(x, y) {
                        shape.draw(canvas, panel.to_pixel(x, y), colour)?;
                    }
                }
            }
            if let Some(cross) = &s.cross {
                let (cx, cy) = self.to_pixel(&layout, cross.at);
                // Inside the frame, so that a cross at the edge shows whole.
                let arm = 5.0;
                let cx = cx.clamp(plot.x as f64 + arm + 1.0, plot.right() as f64 - arm - 1.0);
                let cy = cy.clamp(plot.y as f64 + arm + 1.0, plot.bottom() as f64 - arm - 1.0);
                for (ink, width) in [(WHITE.to_rgba(), 4.5), (colour, 2.5)] {
                    for (a, b) in [
                        ((cx - arm, cy - arm), (cx + arm, cy + arm)),
                        ((cx - arm, cy + arm), (cx + arm, cy - arm)),
                    ] {
                        canvas.polyline(&[a, b], ink, width)?;
                    }
                }
                notes.push((cx, cy, cross.note.clone(), s.entry.colour));
            }
            if let Some(p) = s.best {
                let c = self.to_pixel(&layout, p);
                canvas.disc(c, 6.5, WHITE.to_rgba())?;
                canvas.disc(c, 5.0, colour)?;
            }
        }
        let area = Rect {
            x: 0,
            y: HEADER as i32,
            width: layout.legend.0 as u32 - 4,
            height: layout.height - HEADER,
        };
        // Each cross's note, left of it when it sits at the right half, else right of
        // it; a note that would overlap an earlier one goes below it.
        let mut taken: Vec<(f64, f64, f64)> = Vec::new();
        for (cx, cy, note, colour) in notes {
            let right_half = cx > (plot.x + plot.right()) as f64 / 2.0;
            let (x, align) = if right_half {
                (cx - 10.0, HPos::Right)
            } else {
                (cx + 10.0, HPos::Left)
            };
            let mut baseline = if cy < plot.y as f64 + 20.0 {
                cy + 20.0
            } else {
                cy - 9.0
            };
            let width = text_width(&note, TICK_SIZE - 1.0, FontStyle::Normal)?;
            let (l, r) = match align {
                HPos::Right => (x - width, x),
                _ => (x, x + width),
            };
            while taken
                .iter()
                .any(|&(tl, tr, tb)| l < tr && tl < r && (baseline - tb).abs() < 15.0)
            {
                baseline += 15.0;
            }
            taken.push((l, r, baseline));
            canvas.text(&Label {
                text: note,
                x,
                baseline,
                size: TICK_SIZE - 1.0,
                style: FontStyle::Normal,
                colour,
                align,
            })?;
        }
        cover_outside(canvas, plot, area)?;
        draw_axes(canvas, plot, &x_ticks, &y_ticks)?;
        let axis_em = TICK_SIZE * EM_PER_SIZE;
        canvas.text(&Label {
            text: self.x_title.clone(),
            x: (plot.x + plot.right()) as f64 / 2.0,
            baseline: plot.bottom() as f64 + TICK_LENGTH + 4.0 + ASCENT * axis_em + 26.0,
            size: TICK_SIZE + 1.0,
            style: FontStyle::Normal,
            colour: INK,
            align: HPos::Center,
        })?;
        canvas.text(&Label {
            text: ellipsize(
                &self.y_title,
                TICK_SIZE + 1.0,
                FontStyle::Normal,
                plot.width as f64,
            )?,
            x: (OUTER + 8) as f64,
            baseline: plot.y as f64 - 12.0,
            size: TICK_SIZE + 1.0,
            style: FontStyle::Normal,
            colour: INK,
            align: HPos::Left,
        })?;
        let entries: Vec<Entry> = self.series.iter().map(|s| s.entry.clone()).collect();
        draw_legend(canvas, &entries, layout.legend, plot.height)?;
        draw_title(
            canvas,
            &self.title,
            &self.subtitle,
            (OUTER + 8) as f64,
            (layout.width - OUTER) as f64,
        )
    }
}

/// How opaque a band is over white.
const BAND_OPACITY: f64 = 0.2;
/// How opaque a faint line is.
const FAINT_OPACITY: f64 = 0.18;

/// A band's outlines in scale units, clipped to `window`: for each stretch of finite
/// values, the high edge left to right, then the low edge back.
pub(crate) fn band_polygons(
    band: &[(f64, f64, f64)],
    x: Axis,
    y: Axis,
    window: &Window,
) -> Vec<Vec<(f64, f64)>> {
    let units: Vec<(f64, f64, f64)> = band
        .iter()
        .map(|&(bx, lo, hi)| (x.unit(bx), y.unit(lo), y.unit(hi)))
        .collect();
    units
        .split(|(x, lo, hi)| !(x.is_finite() && lo.is_finite() && hi.is_finite()))
        .filter(|stretch| stretch.len() >= 2)
        .map(|stretch| {
            let high = stretch.iter().map(|&(x, _, hi)| (x, hi));
            let low = stretch.iter().rev().map(|&(x, lo, _)| (x, lo));
            clip_polygon(&high.chain(low).collect::<Vec<_>>(), window)
        })
        .filter(|polygon| polygon.len() >= 3)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figure::axis::Scale;
    use crate::figure::draw::style::{series_colour, series_rgb, MUTED};
    use crate::figure::parts::ENTRY;

    #[test]
    fn a_chart_lays_out_its_legend_beside_the_plot() {
        let series = |n: usize| {
            let entry = Entry {
                name: format!("s{n}"),
                detail: String::new(),
                colour: series_colour(n),
                detail_colour: MUTED,
                marker: None,
                dash: None,
            };
            Series::line(entry, vec![(0.0, 1.0), (1.0, 2.0)])
        };
        let mut chart = Chart {
            title: "t".into(),
            subtitle: String::new(),
            x_title: "x".into(),
            y_title: "y".into(),
            x: Axis::fit(Scale::Linear, [0.0, 1.0].into_iter()),
            y: Axis::fit(Scale::Linear, [1.0, 2.0].into_iter()),
            series: (0..3).map(series).collect(),
        };
        let small = chart.layout();
        assert!(small.legend.0 > small.panel.plot.right() as f64);
        assert_eq!(
            small.height,
            small.panel.plot.bottom() as u32 + CHART_BOTTOM + OUTER
        );
        chart.series = (0..20).map(series).collect();
        let tall = chart.layout();
        // Twenty entries wrap into three columns of seven, as tall as the plot.
        assert_eq!(tall.height, small.height);
        assert_eq!(
            tall.width,
            small.width + 2 * crate::figure::parts::LEGEND_WIDTH
        );
        assert!(7 * ENTRY <= tall.panel.plot.height);
        let (px, py) = chart.to_pixel(&tall, (0.0, 2.0));
        let plot = tall.panel.plot;
        assert!(px > plot.x as f64 && px < plot.x as f64 + 0.05 * plot.width as f64);
        assert!(py > plot.y as f64 && py < plot.y as f64 + 0.05 * plot.height as f64);
    }

    #[test]
    fn a_band_is_shaded_between_its_edges_on_any_scale() {
        let entry = Entry {
            name: "seeds".into(),
            detail: String::new(),
            colour: series_colour(0),
            detail_colour: MUTED,
            marker: None,
            dash: None,
        };
        let band: Vec<(f64, f64, f64)> = (0..=10).map(|i| (i as f64, 0.2, 0.8)).collect();
        let chart = Chart {
            title: "t".into(),
            subtitle: String::new(),
            x_title: "x".into(),
            y_title: "y".into(),
            x: Axis {
                scale: Scale::Linear,
                lo: 0.0,
                hi: 10.0,
            },
            y: Axis {
                scale: Scale::Linear,
                lo: 0.0,
                hi: 1.0,
            },
            series: vec![Series {
                band,
                ..Series::line(entry, vec![(0.0, 0.9), (10.0, 0.9)])
            }],
        };
        let png = crate::figure::draw::canvas::encode(&chart, crate::figure::Format::Png).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut rgb = vec![0; reader.output_buffer_size()];
        reader.next_frame(&mut rgb).unwrap();
        let layout = chart.layout();
        let pixel = |p: (f64, f64)| {
            let (x, y) = chart.to_pixel(&layout, p);
            let i = (y as usize * layout.width as usize + x as usize) * 3;
            [rgb[i], rgb[i + 1], rgb[i + 2]]
        };
        // Inside: the series colour at 20% over white; outside: white.
        let tint = series_rgb(0).map(|c| (0.2 * c as f64 + 0.8 * 255.0).round() as i32);
        let inside = pixel((5.0, 0.5));
        for k in 0..3 {
            assert!(
                (inside[k] as i32 - tint[k]).abs() <= 2,
                "{inside:?} vs {tint:?}"
            );
        }
        assert_eq!(pixel((5.0, 0.1)), [255, 255, 255]);

        // On a log axis the edges are mapped too; NaN splits the band; the part outside
        // the window is clipped away.
        let log = Axis {
            scale: Scale::Log,
            lo: -2.0,
            hi: 0.0,
        };
        let window = Window {
            x_min: 0.0,
            x_max: 3.0,
            y_min: -2.0,
            y_max: 0.0,
        };
        let polygons = band_polygons(
            &[
                (0.0, 0.01, 0.1),
                (1.0, 0.01, 10.0),
                (2.0, f64::NAN, 1.0),
                (3.0, 0.1, 1.0),
            ],
            chart.x,
            log,
            &window,
        );
        assert_eq!(
            polygons.len(),
            1,
            "the NaN leaves one stretch of two points"
        );
        let p = &polygons[0];
        assert!(p.contains(&(0.0, -1.0)) && p.contains(&(0.0, -2.0)));
        assert!(p
            .iter()
            .all(|&(x, y)| (0.0..=1.0).contains(&x) && (-2.0..=0.0).contains(&y)));
    }
}
