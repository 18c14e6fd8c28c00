//! `simrace schema`: the JSON Schema of the scenario format, for editors.

use super::print_out;

pub(super) fn schema() -> u8 {
    print_out(crate::frontend::schema::SCENARIO_SCHEMA);
    0
}
