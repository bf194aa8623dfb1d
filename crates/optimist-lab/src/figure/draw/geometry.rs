//! Polylines in figure or data coordinates: clipped to a window, thinned to what shows.

use crate::landscape::Window;

/// A piece of trajectory in figure pixels (both ends equal for a lone point).
pub(crate) type Segment = ((f64, f64), (f64, f64));

/// Drops points closer than `min_gap` pixels to the last kept one (the last point is
/// always kept), so that long or dense runs cost what their drawing covers.
pub(crate) fn thin(points: impl Iterator<Item = (f64, f64)>, min_gap: f64) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    let mut pending = None;
    for p in points {
        match out.last() {
            Some(&q) if (p.0 - q.0).hypot(p.1 - q.1) < min_gap => pending = Some(p),
            _ => {
                out.push(p);
                pending = None;
            }
        }
    }
    if let Some(p) = pending {
        out.push(p);
    }
    out
}

/// The dashes of a polyline in pixels: pieces `dash` long, `gap` apart, following its
/// bends; the pattern runs on across vertices.
pub(crate) fn dashes(points: &[(f64, f64)], dash: f64, gap: f64) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    // Where along the pattern the pen is: on while below `dash`.
    let mut phase = 0.0;
    for pair in points.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let length = (b.0 - a.0).hypot(b.1 - a.1);
        let at = |t: f64| {
            let f = t / length;
            (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f)
        };
        let mut t = 0.0;
        while t < length {
            let on = phase < dash;
            let left = if on { dash - phase } else { dash + gap - phase };
            let step = left.min(length - t);
            if on {
                if current.is_empty() {
                    current.push(at(t));
                }
                current.push(at(t + step));
            }
            t += step;
            phase += step;
            if step >= left {
                if on {
                    out.push(std::mem::take(&mut current));
                } else {
                    phase = 0.0;
                }
            }
        }
    }
    if current.len() >= 2 {
        out.push(current);
    }
    out
}

/// The parts of the polyline inside `w`: Liang–Barsky clipping of each segment,
/// consecutive visible segments joined.
pub(crate) fn clip_polyline(points: &[(f64, f64)], w: &Window) -> Vec<Vec<(f64, f64)>> {
    let mut pieces: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    if points.len() == 1 && w.contains(points[0].0, points[0].1) {
        return vec![points.to_vec()];
    }
    for pair in points.windows(2) {
        match clip_segment(pair[0], pair[1], w) {
            Some((a, b)) => {
                if current.last() != Some(&a) {
                    if current.len() > 1 {
                        pieces.push(std::mem::take(&mut current));
                    }
                    current.clear();
                    current.push(a);
                }
                current.push(b);
            }
            None => {
                if current.len() > 1 {
                    pieces.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    if current.len() > 1 {
        pieces.push(current);
    }
    pieces
}

/// Where a path leaves `w`: for each step that ends outside it (or whose end is not
/// finite) after being inside or crossing it, the point on the edge where it left and
/// the direction it was going (b − a, unnormalized; towards the far end when that is
/// not finite, along the last finite step).
pub(crate) fn exits(points: &[(f64, f64)], w: &Window) -> Vec<((f64, f64), (f64, f64))> {
    let mut out = Vec::new();
    for pair in points.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if w.contains(b.0, b.1) {
            continue;
        }
        if let Some((_, q)) = clip_segment(a, b, w) {
            out.push((q, (b.0 - a.0, b.1 - a.1)));
        }
    }
    out
}

/// Cohen–Sutherland clipping of segment a–b to `w`: an end outside is moved onto the
/// edge it crosses, exactly, until both are in. Unlike a parametric clip this stays
/// exact for ends like 1e150, where the part inside is 1e-149 of the segment.
pub(crate) fn clip_segment(a: (f64, f64), b: (f64, f64), w: &Window) -> Option<Segment> {
    // Later differences are smaller than this one, so finite too.
    if !((b.0 - a.0).is_finite() && (b.1 - a.1).is_finite()) {
        return None;
    }
    let code = |p: (f64, f64)| {
        let x = if p.0 < w.x_min {
            1
        } else if p.0 > w.x_max {
            2
        } else {
            0
        };
        let y = if p.1 < w.y_min {
            4
        } else if p.1 > w.y_max {
            8
        } else {
            0
        };
        x | y
    };
    let (mut p, mut q) = (a, b);
    let (mut cp, mut cq) = (code(p), code(q));
    // Each end is moved at most twice (once more if rounding lands it just outside).
    for _ in 0..8 {
        if cp & cq != 0 {
            return None;
        }
        if cp | cq == 0 {
            // Touching a corner or an edge from outside is no line at all.
            return (p != q || a == b).then_some((p, q));
        }
        let (out, from, to) = if cp != 0 { (cp, p, q) } else { (cq, q, p) };
        let along_x = |x: f64| {
            (
                x,
                from.1 + (to.1 - from.1) * ((x - from.0) / (to.0 - from.0)),
            )
        };
        let along_y = |y: f64| {
            (
                from.0 + (to.0 - from.0) * ((y - from.1) / (to.1 - from.1)),
                y,
            )
        };
        let moved = match out {
            o if o & 8 != 0 => along_y(w.y_max),
            o if o & 4 != 0 => along_y(w.y_min),
            o if o & 2 != 0 => along_x(w.x_max),
            _ => along_x(w.x_min),
        };
        if cp != 0 {
            p = moved;
            cp = code(p);
        } else {
            q = moved;
            cq = code(q);
        }
    }
    None
}

/// The part of the polygon through `points` inside `w`: Sutherland–Hodgman clipping
/// against each edge in turn (a polygon that leaves and re-enters may get edges along
/// the window's border, which cover nothing).
pub(crate) fn clip_polygon(points: &[(f64, f64)], w: &Window) -> Vec<(f64, f64)> {
    type Edge = (
        fn(f64, f64, &Window) -> bool,
        fn((f64, f64), (f64, f64), &Window) -> (f64, f64),
    );
    fn at_x(a: (f64, f64), b: (f64, f64), x: f64) -> (f64, f64) {
        (x, a.1 + (b.1 - a.1) * (x - a.0) / (b.0 - a.0))
    }
    fn at_y(a: (f64, f64), b: (f64, f64), y: f64) -> (f64, f64) {
        (a.0 + (b.0 - a.0) * (y - a.1) / (b.1 - a.1), y)
    }
    let edges: [Edge; 4] = [
        (|x, _, w| x >= w.x_min, |a, b, w| at_x(a, b, w.x_min)),
        (|x, _, w| x <= w.x_max, |a, b, w| at_x(a, b, w.x_max)),
        (|_, y, w| y >= w.y_min, |a, b, w| at_y(a, b, w.y_min)),
        (|_, y, w| y <= w.y_max, |a, b, w| at_y(a, b, w.y_max)),
    ];
    let mut out: Vec<(f64, f64)> = points.to_vec();
    for (inside, cross) in edges {
        let input = std::mem::take(&mut out);
        for (k, &p) in input.iter().enumerate() {
            let q = input[(k + 1) % input.len()];
            let (p_in, q_in) = (inside(p.0, p.1, w), inside(q.0, q.1, w));
            if p_in {
                out.push(p);
            }
            if p_in != q_in {
                out.push(cross(p, q, w));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::{article, Landscape};

    #[test]
    fn clipping_keeps_the_inside_parts() {
        let w = article().window();
        // In, out through the right edge, back in through the top.
        let pieces = clip_polyline(&[(0.0, 0.0), (20.0, 0.0), (0.0, 20.0), (0.0, 5.0)], &w);
        assert_eq!(
            pieces,
            vec![vec![(0.0, 0.0), (10.0, 0.0)], vec![(0.0, 10.0), (0.0, 5.0)]]
        );
        assert!(clip_polyline(&[(11.0, 0.0), (12.0, 5.0)], &w).is_empty());
        assert!(clip_polyline(&[(1e300, 0.0), (-1e300, f64::MAX)], &w).is_empty());
        // Across the window between huge ends: the clipped ends sit exactly on the edges.
        let across = clip_polyline(&[(0.5, 1e150), (-0.5, -1e150)], &w);
        assert_eq!(across.len(), 1);
        let (top, bottom) = (across[0][0], across[0][1]);
        assert_eq!((top.1, bottom.1), (10.0, -10.0));
        assert!(top.0.abs() <= 0.5 && bottom.0.abs() <= 0.5);
        assert_eq!(clip_polyline(&[(1.0, 1.0)], &w), vec![vec![(1.0, 1.0)]]);
    }

    #[test]
    fn thinning_keeps_the_ends() {
        let pts = [(0.0, 0.0), (0.1, 0.0), (0.2, 0.0), (5.0, 0.0), (5.1, 0.0)];
        assert_eq!(
            thin(pts.into_iter(), 1.0),
            vec![(0.0, 0.0), (5.0, 0.0), (5.1, 0.0)]
        );
    }

    #[test]
    fn polygons_are_clipped_to_the_window() {
        let w = Window {
            x_min: 0.0,
            x_max: 10.0,
            y_min: 0.0,
            y_max: 10.0,
        };
        // A square poking out of the right edge keeps its inside half.
        let clipped = clip_polygon(&[(5.0, 2.0), (15.0, 2.0), (15.0, 8.0), (5.0, 8.0)], &w);
        assert_eq!(
            clipped,
            vec![(5.0, 2.0), (10.0, 2.0), (10.0, 8.0), (5.0, 8.0)]
        );
        // Wholly inside: unchanged; wholly outside: nothing.
        let inside = [(1.0, 1.0), (2.0, 1.0), (2.0, 2.0)];
        assert_eq!(clip_polygon(&inside, &w), inside.to_vec());
        assert!(clip_polygon(&[(11.0, 1.0), (12.0, 1.0), (12.0, 2.0)], &w).is_empty());
    }

    #[test]
    fn dashes_follow_the_line_and_carry_over_bends() {
        // 13 px right then 10 px down, dashes of 6 every 10: the second turns the corner,
        // the third is cut by the line's end.
        let d = dashes(&[(0.0, 0.0), (13.0, 0.0), (13.0, 10.0)], 6.0, 4.0);
        assert_eq!(
            d,
            vec![
                vec![(0.0, 0.0), (6.0, 0.0)],
                vec![(10.0, 0.0), (13.0, 0.0), (13.0, 3.0)],
                vec![(13.0, 7.0), (13.0, 10.0)],
            ]
        );
        let on: f64 = d
            .iter()
            .flat_map(|p| p.windows(2))
            .map(|s| (s[1].0 - s[0].0).hypot(s[1].1 - s[0].1))
            .sum();
        assert!((on - 15.0).abs() < 1e-9);
    }

    #[test]
    fn exits_are_on_the_edge_where_the_path_left() {
        let w = Window {
            x_min: 0.0,
            x_max: 10.0,
            y_min: 0.0,
            y_max: 10.0,
        };
        // In, out through the right edge, back in, out through the top far away.
        let path = [(5.0, 5.0), (15.0, 5.0), (5.0, 5.0), (5.0, 1e150)];
        let e = exits(&path, &w);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0], ((10.0, 5.0), (10.0, 0.0)));
        assert_eq!(e[1].0, (5.0, 10.0));
        assert!(e[1].1 .1 > 0.0 && e[1].1 .0 == 0.0);
        // Staying inside, or wholly outside: none.
        assert!(exits(&[(1.0, 1.0), (2.0, 2.0)], &w).is_empty());
        assert!(exits(&[(20.0, 1.0), (30.0, 2.0)], &w).is_empty());
    }
}
