//! `optimist compare` on other landscapes and in other views: built-ins by name, typed
//! formulas, windows, `--view`, and the bad input each adds; `optimist list
//! landscapes`.

use crate::common;

use common::{listing, ok, optimist, read_csv, scratch};

#[test]
fn views_write_their_own_files() {
    let dir = scratch("views");
    let d = dir.to_str().unwrap();
    let out = optimist(&[
        "compare", "--view", "overlay", "--view", "loss", "--view", "overlay", "--format", "svg",
        "--format", "png", "--out", d,
    ]);
    ok(&out);
    assert_eq!(
        listing(&dir),
        [
            "loss.png",
            "loss.svg",
            "overlay.png",
            "overlay.svg",
            "run.json",
            "trajectories.csv"
        ]
    );
    let png = std::fs::read(dir.join("overlay.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let svg = std::fs::read_to_string(dir.join("loss.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    // The race is the article's: same table as without --view.
    let table = String::from_utf8(out.stdout).unwrap();
    assert_eq!(table.lines().count(), 5);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_builtin_by_name_starts_at_its_classic_start() {
    let dir = scratch("rosenbrock");
    let out = optimist(&[
        "compare",
        "--function",
        "rosenbrock",
        "-o",
        "adam:lr=0.05",
        "-o",
        "momentum:lr=0.0005",
        "--out",
        dir.to_str().unwrap(),
    ]);
    ok(&out);
    let rows = read_csv(&dir.join("trajectories.csv"));
    assert_eq!(
        rows.len(),
        2 * 101,
        "100 steps by default off the article's"
    );
    assert_eq!((rows[0].2, rows[0].3), (-2.0, 2.0));
    for r in &rows {
        let want = (1.0 - r.2).powi(2) + 100.0 * (r.3 - r.2 * r.2).powi(2);
        assert!((r.4 - want).abs() <= 1e-12 * want.max(1.0), "{r:?}");
    }
    assert!(dir.join("compare.png").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The article's function typed as a formula in the article's window takes exactly the
/// article's steps: its derivative is exact, not a finite difference.
#[test]
fn a_typed_formula_races_like_the_builtin() {
    let (a, b) = (scratch("typed"), scratch("builtin"));
    let common = ["--steps", "50", "-o", "adam:lr=0.3", "-o", "sgd:lr=0.95"];
    let mut typed = vec![
        "compare",
        "--function",
        "x^2/20 + y^2",
        "--window=-10,10,-10,10",
        "--out",
        a.to_str().unwrap(),
    ];
    typed.extend(common);
    ok(&optimist(&typed));
    let mut builtin = vec!["compare", "--out", b.to_str().unwrap()];
    builtin.extend(common);
    ok(&optimist(&builtin));
    let (ta, tb) = (
        read_csv(&a.join("trajectories.csv")),
        read_csv(&b.join("trajectories.csv")),
    );
    assert_eq!(ta.len(), 2 * 51);
    assert_eq!(
        (ta[0].2, ta[0].3),
        (-7.0, 2.0),
        "the default start of a formula"
    );
    for (p, q) in ta.iter().zip(&tb) {
        assert_eq!((&p.0, p.1, p.2, p.3), (&q.0, q.1, q.2, q.3));
        assert!((p.4 - q.4).abs() <= 1e-15 * q.4.max(1e-300));
    }
    std::fs::remove_dir_all(&a).unwrap();
    std::fs::remove_dir_all(&b).unwrap();
}

#[test]
fn other_landscapes_say_what_the_default_rates_are() {
    let dir = scratch("note");
    let out = optimist(&[
        "compare",
        "--function",
        "beale",
        "--out",
        dir.to_str().unwrap(),
    ]);
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("note: the default optimizers keep the article's learning rates")
            && stderr.contains("add --tune"),
        "{stderr}"
    );
    let formula = optimist(&[
        "compare",
        "--function",
        "sin(x) + cos(y)",
        "--out",
        dir.to_str().unwrap(),
    ]);
    ok(&formula);
    let stderr = String::from_utf8_lossy(&formula.stderr);
    assert!(
        stderr.contains("note: showing x ∈ [-5, 5], y ∈ [-5, 5]"),
        "{stderr}"
    );
    // The article's function typed as a formula is the article's race: no note, its 30
    // steps from (−7, 2), the same positions to the bit.
    let typed = optimist(&[
        "compare",
        "--function",
        "x^2/20 + y^2",
        "--window=-10,10,-10,10",
        "--out",
        dir.to_str().unwrap(),
    ]);
    ok(&typed);
    let stderr = String::from_utf8_lossy(&typed.stderr);
    assert!(!stderr.contains("note:"), "{stderr}");
    let typed_csv = std::fs::read_to_string(dir.join("trajectories.csv")).unwrap();
    ok(&optimist(&["compare", "--out", dir.to_str().unwrap()]));
    let article_csv = std::fs::read_to_string(dir.join("trajectories.csv")).unwrap();
    assert_eq!(typed_csv, article_csv);
    assert!(typed_csv.contains("\nadam,30,"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_start_outside_the_window_is_allowed_but_said() {
    let dir = scratch("outside");
    let out = optimist(&[
        "compare",
        "--function",
        "booth",
        "--start=12,3",
        "--view",
        "overlay",
        "--out",
        dir.to_str().unwrap(),
    ]);
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "warning: the start (12, 3) lies outside the window x ∈ [-10, 10], y ∈ [-10, 10]"
        ),
        "{stderr}"
    );
    assert!(dir.join("overlay.png").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Each bad input: exit code 2, a message naming the problem and what is allowed, no
/// panic, no file.
#[test]
fn bad_landscapes_and_views_are_clear_errors_with_exit_code_2() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--function", "rosenbrok"],
            &[
                "--function 'rosenbrok' is neither a built-in landscape (did you mean 'rosenbrock'?) nor a formula",
                "article, rosenbrock, beale, himmelblau, rastrigin, ackley, booth, goldstein-price, styblinski-tang, saddle, monkey-saddle",
                "formula in x and y",
            ],
        ),
        (
            &["--function", "xy"],
            &[
                "--function 'xy' is neither a built-in landscape nor a formula\n",
                "as a formula: unknown name 'xy' (for a product write x*y); a formula knows x, y",
                "(column 1)\n  xy\n  ^\n",
                "built-in landscapes: article, rosenbrock",
            ],
        ),
        (
            &["--function", "x + \u{1b}[31my"],
            &["unexpected character '\\u{1b}'", "(column 5)", "  x + \\u{1b}[31my\n      ^"],
        ),
        (&["--window=1,1.0000000000000002,-1,1"], &["is too narrow for its magnitude: XMAX − XMIN = 2.220446049250313e-16"]),
        (&["--window=1e10,10000000000.000002,-1,1"], &["is too narrow for its magnitude"]),
        (&["--window=-1,1,-1e308,1e308"], &["the window x ∈ [-1, 1], y ∈ [-1e308, 1e308] is too wide"]),
        (&["--tune", "--lr-range", "1,1.0000000000000002"], &["too close to search between"]),
        (&["--window=1,\u{7},2,3"], &["'1,\\u{7},2,3' is not four finite numbers"]),
        (
            &["--function", "x^2 + * y"],
            &["--function: expected a number", "(column 7)", "  x^2 + * y\n        ^"],
        ),
        (&["--function", "(x + y"], &["expected ')' to close the '(' at column 1"]),
        (&["--function", "sin x"], &["sin needs its argument in parentheses"]),
        (&["--function", "x + z"], &["unknown name 'z'", "(column 5)"]),
        (
            &["--function", "log(x)", "--start=-1,0"],
            &["is not finite at the start (-1, 0)", "--start"],
        ),
        (&["--function", "1/x", "--start=0,1"], &["is not finite at the start (0, 1)"]),
        (&["--window=2,-2,-1,3"], &["--window", "needs XMIN < XMAX"]),
        (&["--window=-2,2,3,3"], &["needs YMIN < YMAX"]),
        (&["--window=-2,2,3"], &["not four finite numbers XMIN,XMAX,YMIN,YMAX"]),
        (&["--window=-2,2,nan,3"], &["not four finite numbers"]),
        (
            &["--view", "contour"],
            &["unknown view 'contour'; known views: grid, overlay, loss, gif, html"],
        ),
        (&["--score", "loss"], &["add --tune"]),
        (&["--tune", "--score", "distance", "--function", "saddle"], &["no known minimum", "--score loss"]),
        (&["--tune", "--lr-range", "1,0.1"], &["0 < MIN < MAX"]),
        (&["--tune", "--trials", "1"], &["from 2 to 10000"]),
        (&["--tune", "-o", "adamm"], &["unknown optimizer 'adamm'"]),
    ];
    for (i, (args, expected)) in cases.iter().enumerate() {
        let dir = scratch(&format!("bad-{i}"));
        let out_dir = dir.join("out");
        let mut all = vec!["compare", "--out", out_dir.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = optimist(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        for e in *expected {
            assert!(stderr.contains(e), "{args:?}: expected '{e}' in: {stderr}");
        }
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            !stderr.chars().any(|c| c.is_control() && c != '\n'),
            "{args:?}: {stderr:?}"
        );
        assert!(!out_dir.exists(), "{args:?} created output");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn list_shows_every_landscape_with_its_formula() {
    let out = optimist(&["list", "landscapes"]);
    ok(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    for name in [
        "article",
        "rosenbrock",
        "beale",
        "himmelblau",
        "rastrigin",
        "ackley",
        "booth",
        "goldstein-price",
        "styblinski-tang",
        "saddle",
        "monkey-saddle",
    ] {
        assert!(text.contains(&format!("\n{name}\n")), "{name}:\n{text}");
    }
    assert!(text.contains("  f(x, y) = (1 − x)² + 100·(y − x²)²\n  window:  x ∈ [-2, 2], y ∈ [-1, 3]\n  minima:  (1, 1)\n  start:   (-2, 2)\n"));
    assert!(text.contains("minima:  none (unbounded below)"));
    assert!(!text.contains("Kingma & Ba"), "optimizers not asked for");
    let both = String::from_utf8(optimist(&["list"]).stdout).unwrap();
    assert!(both.contains("Kingma & Ba") && both.contains("goldstein-price"));
    let only = String::from_utf8(optimist(&["list", "optimizers"]).stdout).unwrap();
    assert!(only.contains("Kingma & Ba") && !only.contains("goldstein-price"));
}

/// Inputs of 100 KB are cut in every message that repeats them.
#[test]
fn huge_inputs_are_cut_in_messages() {
    let big_formula = "x+".repeat(50_000);
    let big_name = "q".repeat(100_000);
    let big_window = format!("1,{},2,3", "9".repeat(100_000));
    let cases: [&[&str]; 4] = [
        &["--function", &big_formula],
        &["--function", &big_name],
        &["-o", &big_name],
        &["--window", &big_window],
    ];
    for args in cases {
        let mut all = vec!["compare", "--out", "/nonexistent/never"];
        all.extend_from_slice(args);
        let out = optimist(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.len() < 4000,
            "{} bytes: {}",
            stderr.len(),
            &stderr[..300]
        );
        assert!(stderr.contains("characters"), "{stderr}");
    }
}
