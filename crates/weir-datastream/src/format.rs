//! How sinks print records: Flink's `toString()` forms, so that `(word,3)` prints as it does in
//! Flink, and `null` for missing values.

/// Writes a record as text for `print` and text-file sinks. Implemented for primitives,
/// strings, tuples up to six fields, `Option` and `Vec`; implement it for your own types.
pub trait RecordFormat {
    /// Appends the text form of `self` to `out`.
    fn format_record(&self, out: &mut String);

    /// The text form as a new string.
    fn to_record_string(&self) -> String {
        let mut s = String::new();
        self.format_record(&mut s);
        s
    }
}

macro_rules! display_format {
    ($($t:ty),*) => {$(
        impl RecordFormat for $t {
            fn format_record(&self, out: &mut String) {
                use std::fmt::Write;
                let _ = write!(out, "{self}");
            }
        }
    )*};
}
display_format!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64, bool, char, String,
    str
);

impl<T: RecordFormat + ?Sized> RecordFormat for &T {
    fn format_record(&self, out: &mut String) {
        (**self).format_record(out)
    }
}

impl<T: RecordFormat> RecordFormat for Option<T> {
    fn format_record(&self, out: &mut String) {
        match self {
            Some(v) => v.format_record(out),
            None => out.push_str("null"),
        }
    }
}

impl<T: RecordFormat> RecordFormat for Vec<T> {
    fn format_record(&self, out: &mut String) {
        out.push('[');
        for (i, v) in self.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            v.format_record(out);
        }
        out.push(']');
    }
}

macro_rules! tuple_format {
    ($first:ident $(, $rest:ident)*) => {
        impl<$first: RecordFormat $(, $rest: RecordFormat)*> RecordFormat for ($first, $($rest,)*) {
            #[allow(non_snake_case)]
            fn format_record(&self, out: &mut String) {
                let ($first, $($rest,)*) = self;
                out.push('(');
                $first.format_record(out);
                $( out.push(','); $rest.format_record(out); )*
                out.push(')');
            }
        }
    };
}
tuple_format!(A);
tuple_format!(A, B);
tuple_format!(A, B, C);
tuple_format!(A, B, C, D);
tuple_format!(A, B, C, D, E);
tuple_format!(A, B, C, D, E, F);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_flink() {
        assert_eq!(("hello".to_string(), 3i64).to_record_string(), "(hello,3)");
        assert_eq!(
            (1, Some(2.5), None::<i32>).to_record_string(),
            "(1,2.5,null)"
        );
        assert_eq!(vec![1, 2].to_record_string(), "[1, 2]");
    }
}
