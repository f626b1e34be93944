//! A selection over an in-memory list (sets, components, files, audit entries): cursor,
//! scroll offset, and the same movement rules as the paged findings list.

use super::action::Action;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sel {
    pub sel: usize,
    pub top: usize,
}

impl Sel {
    /// Applies a movement action over `len` rows with `height` visible; true if it moved.
    pub fn apply(&mut self, a: Action, len: usize, height: u16) -> bool {
        let h = usize::from(height.max(1));
        let last = len.saturating_sub(1);
        let before = self.sel;
        self.sel = match a {
            Action::Up => self.sel.saturating_sub(1),
            Action::Down => (self.sel + 1).min(last),
            Action::PageUp => self.sel.saturating_sub(h),
            Action::PageDown => (self.sel + h).min(last),
            Action::Top => 0,
            Action::Bottom => last,
            _ => return false,
        };
        self.scroll(h);
        before != self.sel
    }

    pub fn select(&mut self, i: usize, len: usize, height: u16) {
        self.sel = i.min(len.saturating_sub(1));
        self.scroll(usize::from(height.max(1)));
    }

    fn scroll(&mut self, h: usize) {
        if self.sel < self.top {
            self.top = self.sel;
        } else if self.sel >= self.top + h {
            self.top = self.sel + 1 - h;
        }
    }
}

/// Which row of a list was clicked: `rows_y` is the first row's screen line.
pub fn clicked_row(y: u16, rows_y: u16, height: u16, top: usize) -> Option<usize> {
    (y >= rows_y && y < rows_y + height).then(|| top + usize::from(y - rows_y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn movement_clamps_and_scrolls() {
        let mut s = Sel::default();
        s.apply(Action::Down, 10, 3);
        s.apply(Action::Down, 10, 3);
        s.apply(Action::Down, 10, 3);
        assert_eq!((s.sel, s.top), (3, 1));
        s.apply(Action::Bottom, 10, 3);
        assert_eq!((s.sel, s.top), (9, 7));
        s.apply(Action::PageDown, 10, 3);
        assert_eq!(s.sel, 9);
        s.apply(Action::Top, 10, 3);
        assert_eq!((s.sel, s.top), (0, 0));
        assert!(!s.apply(Action::Up, 0, 3));
        assert_eq!(clicked_row(5, 4, 3, 2), Some(3));
        assert_eq!(clicked_row(8, 4, 3, 2), None);
    }
}
