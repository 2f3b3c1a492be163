//! How the blades share the width of the window, as the portal does it: the newest blade
//! is always whole, older ones to its left get what is left (never less than a readable
//! width), and those that no longer fit fold into a strip at the left edge instead of
//! being cut mid-sentence. Space left over goes to the newest blade, so tables in it use
//! the whole window. A maximised blade takes all of it.

/// A blade narrower than this is not readable: it folds instead.
pub const MIN_WIDTH: f32 = 380.0;
/// The strip holding folded blades.
pub const FOLD_STRIP: f32 = 34.0;

/// The width of each blade's content, or `None` for a folded blade. `preferred` holds each
/// blade's preferred content width, oldest first; `available` is the room for all of them;
/// `overhead` is what each blade adds around its content (frame, margins, spacing).
pub fn widths(
    preferred: &[f32],
    available: f32,
    overhead: f32,
    maximised: Option<usize>,
) -> Vec<Option<f32>> {
    let n = preferred.len();
    let mut out = vec![None; n];
    if n == 0 {
        return out;
    }
    if let Some(m) = maximised.filter(|m| *m < n) {
        let strip = if n > 1 { FOLD_STRIP } else { 0.0 };
        out[m] = Some((available - strip - overhead).max(MIN_WIDTH.min(available)));
        return out;
    }
    let fit = |room: f32, out: &mut Vec<Option<f32>>| -> (bool, f32) {
        let mut left = room;
        let newest = (preferred[n - 1]).min(left - overhead).max(1.0);
        out[n - 1] = Some(newest);
        left -= newest + overhead;
        let mut folded = false;
        for i in (0..n - 1).rev() {
            if folded || left < MIN_WIDTH + overhead {
                folded = true;
                out[i] = None;
                continue;
            }
            let w = preferred[i].min(left - overhead).max(MIN_WIDTH);
            out[i] = Some(w);
            left -= w + overhead;
        }
        (folded, left)
    };
    let (folded, mut left) = fit(available, &mut out);
    if folded {
        left = fit(available - FOLD_STRIP, &mut out).1;
    }
    if left > 0.0
        && let Some(w) = out[n - 1].as_mut()
    {
        *w += left;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(w: &[Option<f32>], overhead: f32) -> f32 {
        let folded = w.iter().any(Option::is_none);
        w.iter().flatten().map(|x| x + overhead).sum::<f32>()
            + if folded { FOLD_STRIP } else { 0.0 }
    }

    #[test]
    fn one_blade_uses_the_whole_width() {
        let w = widths(&[500.0], 1000.0, 20.0, None);
        assert_eq!(w, vec![Some(980.0)]);
    }

    #[test]
    fn the_newest_blade_is_whole_and_older_ones_fold_instead_of_being_cut() {
        // 1280x720 with the navigator open: about 1000 points for blades.
        let w = widths(&[500.0, 500.0, 940.0], 1000.0, 20.0, None);
        assert_eq!(
            w[2],
            Some(1000.0 - FOLD_STRIP - 20.0),
            "newest whole, with the leftover"
        );
        assert_eq!(w[0], None);
        assert_eq!(w[1], None);
        let w = widths(&[500.0, 500.0], 1000.0, 20.0, None);
        assert!(
            w.iter().all(Option::is_some),
            "two 500s fit side by side: {w:?}"
        );
        assert!(
            (total(&w, 20.0) - 1000.0).abs() < 0.01,
            "and fill the width"
        );
        for avail in [400.0, 700.0, 1000.0, 1400.0, 2600.0] {
            for prefs in [vec![500.0; 5], vec![940.0, 500.0, 620.0], vec![700.0]] {
                let w = widths(&prefs, avail, 20.0, None);
                assert!(
                    total(&w, 20.0) <= avail + 0.01,
                    "{prefs:?} in {avail}: {w:?}"
                );
                assert!(w.last().unwrap().is_some(), "the newest is never folded");
                // Folded blades are always the oldest ones.
                let first_shown = w.iter().position(Option::is_some).unwrap();
                assert!(w[first_shown..].iter().all(Option::is_some));
                for x in w[..w.len() - 1].iter().flatten() {
                    assert!(*x >= MIN_WIDTH, "{prefs:?} in {avail}: {w:?}");
                }
            }
        }
    }

    #[test]
    fn a_maximised_blade_takes_everything() {
        let w = widths(&[500.0, 500.0, 500.0], 1200.0, 20.0, Some(1));
        assert_eq!(w, vec![None, Some(1200.0 - FOLD_STRIP - 20.0), None]);
    }
}
