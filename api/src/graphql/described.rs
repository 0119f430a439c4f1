//! The schema's documentation check: every type, field, argument, input field and enum value
//! of `schema.graphql` that frontend developers read in GraphiQL's Docs pane carries a
//! description; a new one without fails the test `every_schema_element_is_described`.

use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};

/// Every element of the SDL `sdl` without a description, as `Type`, `Type.field`,
/// `Type.field(arg)` or `Enum.VALUE`.
pub fn undescribed(sdl: &str) -> Vec<String> {
    let doc = async_graphql::parser::parse_schema(sdl).expect("the schema parses");
    let mut missing = Vec::new();
    for def in &doc.definitions {
        let TypeSystemDefinition::Type(t) = def else { continue };
        let (name, t) = (t.node.name.node.as_str(), &t.node);
        if name.starts_with("__") {
            continue;
        }
        if t.description.is_none() {
            missing.push(name.to_string());
        }
        match &t.kind {
            TypeKind::Object(o) => fields(name, &o.fields, &mut missing),
            TypeKind::Interface(i) => fields(name, &i.fields, &mut missing),
            TypeKind::InputObject(i) => {
                missing.extend(i.fields.iter().filter(|f| f.node.description.is_none()).map(|f| format!("{name}.{}", f.node.name.node)));
            }
            TypeKind::Enum(e) => {
                missing.extend(e.values.iter().filter(|v| v.node.description.is_none()).map(|v| format!("{name}.{}", v.node.value.node)));
            }
            TypeKind::Scalar | TypeKind::Union(_) => {}
        }
    }
    missing
}

fn fields(owner: &str, list: &[async_graphql::Positioned<async_graphql::parser::types::FieldDefinition>], missing: &mut Vec<String>) {
    for f in list {
        let field = format!("{owner}.{}", f.node.name.node);
        missing.extend(f.node.arguments.iter().filter(|a| a.node.description.is_none()).map(|a| format!("{field}({})", a.node.name.node)));
        if f.node.description.is_none() {
            missing.push(field);
        }
    }
}
