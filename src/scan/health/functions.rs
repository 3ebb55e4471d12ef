//! The functions of a syntax tree, per language: where each starts and ends, its name, and
//! its cyclomatic complexity — 1 plus one for each decision point in its own body (a
//! function nested in it counts for itself, not for its parent):
//!
//! - Python: `if`, `elif`, `for`, `while`, `except`, each `case` of a `match`, a
//!   conditional expression (`a if c else b`), each `for` and `if` of a comprehension,
//!   each `and` / `or`. A `lambda` belongs to the function it is written in.
//! - JavaScript, TypeScript, TSX: `if`, `for`, `for … in` / `of`, `while`, `do`, each
//!   `case` of a `switch` (not `default`), `catch`, `?:`, each `&&` / `||` / `??`.
//!   Function expressions and arrow functions are functions of their own, named after
//!   the variable, property or field they are assigned to (`<anonymous>` otherwise).
//! - Rust: `if` (and `if let`), `for`, `while`, each arm of a `match`, each `&&` / `||`.
//!   A closure belongs to the function it is written in.
//! - Go: `if`, `for`, each `case` of a `switch`, type switch or `select` (not
//!   `default`), each `&&` / `||`. A function literal belongs to its function.
//! - Shell: `if`, `elif`, `for` (both forms), `while` / `until`, each `case` item, `?:`
//!   in arithmetic, each `&&` / `||` (between commands and inside `[[ ]]`).

use tree_sitter::{Node, Tree};

use crate::review::Language;

/// A function (or method) found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub name: String,
    /// 1-based, inclusive.
    pub start_line: u32,
    pub end_line: u32,
    pub complexity: u32,
}

impl Function {
    pub fn lines(&self) -> u32 {
        self.end_line - self.start_line + 1
    }
}

/// What a language's grammar calls a function and a decision point.
struct Kinds {
    functions: &'static [&'static str],
    decisions: &'static [&'static str],
    /// Nodes whose unnamed operator children (below) are each a decision point.
    logical: &'static [&'static str],
    operators: &'static [&'static str],
}

fn kinds(lang: Language) -> Kinds {
    match lang {
        Language::Python => Kinds {
            functions: &["function_definition"],
            decisions: &[
                "if_statement",
                "elif_clause",
                "for_statement",
                "while_statement",
                "except_clause",
                "case_clause",
                "conditional_expression",
                "for_in_clause",
                "if_clause",
            ],
            logical: &["boolean_operator"],
            operators: &["and", "or"],
        },
        Language::JavaScript | Language::TypeScript | Language::Tsx => Kinds {
            functions: &[
                "function_declaration",
                "function_expression",
                "generator_function_declaration",
                "generator_function",
                "arrow_function",
                "method_definition",
            ],
            decisions: &[
                "if_statement",
                "for_statement",
                "for_in_statement",
                "while_statement",
                "do_statement",
                "switch_case",
                "catch_clause",
                "ternary_expression",
            ],
            logical: &["binary_expression"],
            operators: &["&&", "||", "??"],
        },
        Language::Rust => Kinds {
            functions: &["function_item"],
            decisions: &[
                "if_expression",
                "for_expression",
                "while_expression",
                "match_arm",
            ],
            logical: &["binary_expression"],
            operators: &["&&", "||"],
        },
        Language::Go => Kinds {
            functions: &["function_declaration", "method_declaration"],
            decisions: &[
                "if_statement",
                "for_statement",
                "expression_case",
                "type_case",
                "communication_case",
            ],
            logical: &["binary_expression"],
            operators: &["&&", "||"],
        },
        Language::Shell => Kinds {
            functions: &["function_definition"],
            decisions: &[
                "if_statement",
                "elif_clause",
                "for_statement",
                "c_style_for_statement",
                "while_statement",
                "case_item",
                "ternary_expression",
            ],
            logical: &["list", "binary_expression"],
            operators: &["&&", "||"],
        },
    }
}

/// The functions of `tree` (parsed from `text` as `lang`), in the order they start.
pub fn functions(lang: Language, tree: &Tree, text: &str) -> Vec<Function> {
    let kinds = kinds(lang);
    let mut found: Vec<Function> = Vec::new();
    // the functions the walk is inside: (index in `found`, end byte)
    let mut open: Vec<(usize, usize)> = Vec::new();
    let mut cursor = tree.walk();
    'walk: loop {
        let node = cursor.node();
        while open
            .last()
            .is_some_and(|(_, end)| node.start_byte() >= *end)
        {
            open.pop();
        }
        if kinds.functions.contains(&node.kind()) {
            found.push(Function {
                name: name_of(node, text),
                start_line: line_of(node.start_position().row),
                end_line: line_of(node.end_position().row),
                complexity: 1,
            });
            open.push((found.len() - 1, node.end_byte()));
        } else if let Some(&(inside, _)) = open.last() {
            found[inside].complexity += decisions_at(node, &kinds);
        }
        if cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    found
}

/// The decision points `node` itself adds.
fn decisions_at(node: Node, kinds: &Kinds) -> u32 {
    let kind = node.kind();
    if kinds.decisions.contains(&kind) {
        return 1;
    }
    if !kinds.logical.contains(&kind) {
        return 0;
    }
    let mut cursor = node.walk();
    let operators = node
        .children(&mut cursor)
        .filter(|child| !child.is_named() && kinds.operators.contains(&child.kind()))
        .count();
    u32::try_from(operators).unwrap_or(u32::MAX)
}

fn line_of(row: usize) -> u32 {
    u32::try_from(row + 1).unwrap_or(u32::MAX)
}

/// Longest name a message quotes.
const NAME_CHARS: usize = 60;

/// The function's own name; for a function expression, what it is assigned to.
fn name_of(node: Node, text: &str) -> String {
    let named = node.child_by_field_name("name").or_else(|| {
        let parent = node.parent()?;
        let field = match parent.kind() {
            "variable_declarator" | "public_field_definition" | "field_definition" => "name",
            "pair" => "key",
            "assignment_expression" => "left",
            _ => return None,
        };
        parent.child_by_field_name(field)
    });
    let name = named
        .and_then(|n| text.get(n.start_byte()..n.end_byte()))
        .and_then(|n| n.lines().next())
        .unwrap_or("<anonymous>");
    name.chars().take(NAME_CHARS).collect()
}
