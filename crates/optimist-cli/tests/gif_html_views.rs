//! `optimist compare --view gif` and `--view html`: the files they write are the lab's
//! animation and page of the same race, byte for byte, whatever `--format` says.

use crate::common;

use common::{listing, ok, optimist, scratch};

use optimist_lab::figure::{animation, animation_layout, page};
use optimist_lab::framing::{paths_window, Framed};
use optimist_lab::landscape::{builtin, Landscape};
use optimist_lab::race::Race;

fn compare(args: &[&str]) {
    let mut all = vec!["compare"];
    all.extend_from_slice(args);
    ok(&optimist(&all));
}

#[test]
fn gif_and_html_views_write_the_article_race() {
    let dir = scratch("article");
    let out = dir.to_str().unwrap();
    compare(&[
        "--view", "gif", "--view", "html", "--format", "svg", "--out", out,
    ]);
    assert_eq!(
        listing(&dir),
        [
            "compare.gif",
            "compare.html",
            "run.json",
            "trajectories.csv"
        ]
    );

    let builtin_article = builtin("article").unwrap();
    let runs = Race::article().run::<f64>(&builtin_article).unwrap();
    // The default race is drawn framed on its paths.
    let article = Framed {
        inner: &builtin_article,
        window: paths_window(&builtin_article, &runs, Race::article().start),
    };
    let gif = std::fs::read(dir.join("compare.gif")).unwrap();
    assert_eq!(&gif[..6], b"GIF89a");
    let layout = animation_layout(article.window(), runs.len()).unwrap();
    let size = (
        u16::from_le_bytes([gif[6], gif[7]]) as u32,
        u16::from_le_bytes([gif[8], gif[9]]) as u32,
    );
    assert_eq!(size, (layout.width, layout.height));
    assert_eq!(gif.last(), Some(&0x3b), "the GIF trailer");
    assert!(
        gif == animation(&article, &runs).unwrap(),
        "not the lab's animation"
    );

    let html = std::fs::read_to_string(dir.join("compare.html")).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    assert!(html == page(&article, &runs).unwrap(), "not the lab's page");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn gif_and_html_views_follow_the_function_and_start() {
    let dir = scratch("beale");
    let out = dir.to_str().unwrap();
    compare(&[
        "--function",
        "beale",
        "--start=1,1.5",
        "--steps",
        "200",
        "-o",
        "adam:lr=0.05",
        "-o",
        "rmsprop:lr=0.01",
        "--view",
        "html",
        "--view",
        "gif",
        "--out",
        out,
    ]);
    let beale = builtin("beale").unwrap();
    let mut race = Race::article();
    race.start = (1.0, 1.5);
    race.steps = 200;
    race.optimizers = vec![
        "adam:lr=0.05".parse().unwrap(),
        "rmsprop:lr=0.01".parse().unwrap(),
    ];
    let runs = race.run::<f64>(&beale).unwrap();
    assert!(std::fs::read(dir.join("compare.gif")).unwrap() == animation(&beale, &runs).unwrap());
    let html = std::fs::read_to_string(dir.join("compare.html")).unwrap();
    assert!(html == page(&beale, &runs).unwrap());
    assert!(html.contains(&format!("f(x, y) = {}", beale.formula())));
    std::fs::remove_dir_all(&dir).unwrap();
}
