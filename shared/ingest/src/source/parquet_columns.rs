//! Typed access to the columns of a record batch, whichever Arrow encoding pyarrow or `datasets` chose
//! (`string` / `large_string` / `string_view`, `list` / `large_list`, ...). Building it is the schema check.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, RecordBatch, StructArray};
use arrow_schema::DataType;

pub(crate) enum Strings<'a> {
    Small(&'a arrow_array::StringArray),
    Large(&'a arrow_array::LargeStringArray),
    View(&'a arrow_array::StringViewArray),
}

impl<'a> Strings<'a> {
    pub fn of(array: &'a dyn Array) -> Option<Self> {
        if let Some(a) = array.as_string_opt::<i32>() {
            Some(Strings::Small(a))
        } else if let Some(a) = array.as_string_opt::<i64>() {
            Some(Strings::Large(a))
        } else {
            array.as_string_view_opt().map(Strings::View)
        }
    }

    pub fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Strings::Small(a) => a.is_valid(i).then(|| a.value(i)),
            Strings::Large(a) => a.is_valid(i).then(|| a.value(i)),
            Strings::View(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
}

pub(crate) enum Binaries<'a> {
    Small(&'a arrow_array::BinaryArray),
    Large(&'a arrow_array::LargeBinaryArray),
    View(&'a arrow_array::BinaryViewArray),
}

impl<'a> Binaries<'a> {
    pub fn of(array: &'a dyn Array) -> Option<Self> {
        if let Some(a) = array.as_binary_opt::<i32>() {
            Some(Binaries::Small(a))
        } else if let Some(a) = array.as_binary_opt::<i64>() {
            Some(Binaries::Large(a))
        } else {
            array.as_binary_view_opt().map(Binaries::View)
        }
    }

    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        match self {
            Binaries::Small(a) => a.is_valid(i).then(|| a.value(i)),
            Binaries::Large(a) => a.is_valid(i).then(|| a.value(i)),
            Binaries::View(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
}

/// `list<struct<from: string, value: string>>`.
pub(crate) enum Conversations<'a> {
    Small(&'a arrow_array::ListArray),
    Large(&'a arrow_array::LargeListArray),
}

impl<'a> Conversations<'a> {
    pub fn of(array: &'a dyn Array) -> Option<Self> {
        let (list, item_type) = if let Some(a) = array.as_list_opt::<i32>() {
            (Conversations::Small(a), a.value_type())
        } else if let Some(a) = array.as_list_opt::<i64>() {
            (Conversations::Large(a), a.value_type())
        } else {
            return None;
        };
        let DataType::Struct(fields) = item_type else { return None };
        let string_field = |name: &str| {
            fields.iter().any(|f| {
                f.name() == name && matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
            })
        };
        (string_field("from") && string_field("value")).then_some(list)
    }

    /// The turns of row `i` as a struct array, or `None` when the row's list is null.
    pub fn get(&self, i: usize) -> Option<ArrayRef> {
        match self {
            Conversations::Small(a) => a.is_valid(i).then(|| a.value(i)),
            Conversations::Large(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
}

/// How a file stores its images.
pub(crate) enum Images<'a> {
    /// The Hugging Face datasets `Image` feature: `struct<bytes: binary, path: string>`.
    HfStruct {
        array: &'a StructArray,
        bytes: Option<Binaries<'a>>,
        path: Option<Strings<'a>>,
    },
    Binary(Binaries<'a>),
    Path(Strings<'a>),
}

impl<'a> Images<'a> {
    pub fn of(array: &'a dyn Array) -> Option<Self> {
        if let Some(structure) = array.as_struct_opt() {
            let bytes = structure.column_by_name("bytes").map(|c| Binaries::of(c.as_ref()));
            let path = structure.column_by_name("path").map(|c| Strings::of(c.as_ref()));
            // Each child, if present, must have the right type; at least one must be present.
            if matches!(bytes, Some(None)) || matches!(path, Some(None)) || (bytes.is_none() && path.is_none()) {
                return None;
            }
            return Some(Images::HfStruct { array: structure, bytes: bytes.flatten(), path: path.flatten() });
        }
        Binaries::of(array).map(Images::Binary).or_else(|| Strings::of(array).map(Images::Path))
    }
}

/// Scalar columns beyond the known ones, carried into `Row::extra`.
pub(crate) fn extra_value(array: &dyn Array, i: usize) -> Option<serde_json::Value> {
    if array.is_null(i) {
        return Some(serde_json::Value::Null);
    }
    if let Some(strings) = Strings::of(array) {
        return strings.get(i).map(|s| serde_json::Value::String(s.to_owned()));
    }
    match array.data_type() {
        DataType::Boolean => Some(array.as_boolean().value(i).into()),
        DataType::Int32 => Some(array.as_primitive::<Int32Type>().value(i).into()),
        DataType::Int64 => Some(array.as_primitive::<Int64Type>().value(i).into()),
        DataType::Float32 => Some(f64::from(array.as_primitive::<Float32Type>().value(i)).into()),
        DataType::Float64 => Some(array.as_primitive::<Float64Type>().value(i).into()),
        _ => None,
    }
}

pub(crate) fn is_extra_type(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Boolean
            | DataType::Int32
            | DataType::Int64
            | DataType::Float32
            | DataType::Float64
    )
}

/// The columns of one batch, typed. Building it from an empty batch of the file's schema is the schema check.
pub(crate) struct Columns<'a> {
    pub id: Strings<'a>,
    pub source: Option<Strings<'a>>,
    pub conversations: Option<Conversations<'a>>,
    pub question: Option<Strings<'a>>,
    pub image: Option<Images<'a>>,
    pub extras: Vec<(&'a str, &'a ArrayRef)>,
}

/// A column problem: `(column, what is wrong)`.
pub(crate) type ColumnProblem = (String, String);

pub(crate) const KNOWN_COLUMNS: [&str; 5] = ["id", "source", "conversations", "question", "image"];

impl<'a> Columns<'a> {
    pub fn of(batch: &'a RecordBatch) -> Result<Self, ColumnProblem> {
        let column = |name: &str| batch.column_by_name(name);
        let wrong = |name: &str, expected: &str| {
            let found = column(name).map(|c| c.data_type().to_string()).unwrap_or_default();
            (name.to_owned(), format!("has type {found}, expected {expected}"))
        };
        let id = match column("id") {
            None => return Err(("id".into(), "is missing".into())),
            Some(c) => Strings::of(c.as_ref()).ok_or_else(|| wrong("id", "a string"))?,
        };
        let source = match column("source") {
            None => None,
            Some(c) => Some(Strings::of(c.as_ref()).ok_or_else(|| wrong("source", "a string"))?),
        };
        let conversations = match column("conversations") {
            None => None,
            Some(c) => Some(
                Conversations::of(c.as_ref())
                    .ok_or_else(|| wrong("conversations", "list<struct<from: string, value: string>>"))?,
            ),
        };
        let question = match column("question") {
            None => None,
            Some(c) => Some(Strings::of(c.as_ref()).ok_or_else(|| wrong("question", "a string"))?),
        };
        if conversations.is_none() && question.is_none() {
            return Err(("conversations".into(), "is missing (and there is no \"question\" column)".into()));
        }
        let image = match column("image") {
            None => None,
            Some(c) => Some(Images::of(c.as_ref()).ok_or_else(|| {
                wrong("image", "struct<bytes: binary, path: string> (datasets Image), binary, or a path string")
            })?),
        };
        let schema = batch.schema_ref();
        let extras = schema
            .fields()
            .iter()
            .zip(batch.columns())
            .filter(|(field, _)| !KNOWN_COLUMNS.contains(&field.name().as_str()) && is_extra_type(field.data_type()))
            .map(|(field, array)| (field.name().as_str(), array))
            .collect();
        Ok(Columns { id, source, conversations, question, image, extras })
    }
}
