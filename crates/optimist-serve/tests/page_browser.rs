//! The playground in a real browser: headless Chromium loads the page from a server of
//! this process; the test drags the start, moves a learning-rate slider, types a bad
//! formula and reopens the page's URL, checking each time that what is drawn is the
//! API's race, point for point.
//!
//! Chromium is Debian's `chromium` package (`.ci/run` installs it), or the binary
//! `OPTIMIST_CHROMIUM` names. Without one the test prints "skipped: no chromium found"
//! and passes, unless `OPTIMIST_REQUIRE_CHROMIUM` is set (as `.ci/run` does), when it
//! fails.

use headless_chrome::browser::tab::point::Point;
use headless_chrome::browser::tab::ModifierKey;
use headless_chrome::protocol::cdp::Input::{
    DispatchMouseEvent, DispatchMouseEventTypeOption, MouseButton,
};
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use optimist_serve::client::post;
use optimist_serve::{spawn, Limits};
use serde_json::{json, Value};
use std::error::Error;
use std::ffi::OsStr;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The page's series colours, as RGB.
const COLOURS: [[u8; 3]; 3] = [[31, 119, 180], [255, 127, 14], [44, 160, 44]];

/// The browser to drive: `OPTIMIST_CHROMIUM`, else the first of the usual names on PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("OPTIMIST_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// Chromium, headless, on a fresh profile, nothing reaching the network.
fn launch(binary: &Path, profile: &Path) -> Result<Browser> {
    let args: Vec<&OsStr> = [
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--force-device-scale-factor=1",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    let options = LaunchOptions::default_builder()
        .path(Some(binary.to_path_buf()))
        .headless(true)
        .sandbox(false)
        .user_data_dir(Some(profile.to_path_buf()))
        .window_size(Some((1280, 900)))
        .idle_browser_timeout(Duration::from_secs(120))
        .args(args)
        .build()?;
    Ok(Browser::new(options)?)
}

fn evaluate(tab: &Tab, expression: &str) -> Result<Value> {
    let text = tab
        .evaluate(&format!("JSON.stringify({expression})"), false)?
        .value
        .ok_or("no value")?;
    Ok(serde_json::from_str(text.as_str().ok_or("not text")?)?)
}

/// Waits until `expression` is true.
fn wait_until(tab: &Tab, expression: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while evaluate(tab, expression)? != json!(true) {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {expression}").into());
        }
        std::thread::sleep(Duration::from_millis(15));
    }
    Ok(())
}

/// The redraw counter.
fn seq(tab: &Tab) -> Result<u64> {
    Ok(evaluate(tab, "Number(document.body.dataset.seq || 0)")?
        .as_u64()
        .unwrap_or(0))
}

/// Waits for the redraw after `seen` with no race still under way or pending.
fn redrawn(tab: &Tab, seen: u64) -> Result<()> {
    wait_until(
        tab,
        &format!("Number(document.body.dataset.seq || 0) > {seen} && playground.race !== null"),
    )?;
    // Changes are coalesced: let the last one land.
    std::thread::sleep(Duration::from_millis(150));
    Ok(())
}

fn mouse(
    tab: &Tab,
    kind: DispatchMouseEventTypeOption,
    (x, y): (f64, f64),
    pressed: bool,
) -> Result<()> {
    let released = matches!(kind, DispatchMouseEventTypeOption::MouseReleased);
    tab.call_method(DispatchMouseEvent {
        Type: kind,
        x,
        y,
        button: Some(if pressed || released {
            MouseButton::Left
        } else {
            MouseButton::None
        }),
        click_count: Some(1),
        modifiers: None,
        timestamp: None,
        buttons: Some(if pressed { 1 } else { 0 }),
        force: None,
        tangential_pressure: None,
        tilt_x: None,
        tilt_y: None,
        twist: None,
        delta_x: None,
        delta_y: None,
        pointer_Type: None,
    })?;
    Ok(())
}

/// `%xx` and `+` decoded.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// The race request the page's URL holds.
fn request_from_url(search: &str) -> Value {
    let mut request = json!({"optimizers": []});
    for pair in search.trim_start_matches('?').split('&') {
        let (k, v) = pair.split_once('=').unwrap();
        let v = decode(v);
        match k {
            "f" => request["function"] = json!(v),
            "s" => {
                let s: Vec<f64> = v.split(',').map(|n| n.parse().unwrap()).collect();
                request["start"] = json!(s);
            }
            "n" => request["steps"] = json!(v.parse::<u64>().unwrap()),
            "o" => request["optimizers"].as_array_mut().unwrap().push(json!(v)),
            _ => panic!("unknown key {k} in the URL"),
        }
    }
    request
}

/// What the page shows, checked against the API: the race its URL describes, asked of
/// the server afresh, mapped to the plot, is every trail drawn (to 1e-9 px); and on a
/// screenshot, the top trail's points are in its colour. Returns the trails drawn.
fn check_drawn(tab: &Tab, addr: SocketAddr) -> Result<Vec<Vec<[f64; 2]>>> {
    let seen = evaluate(tab, "({url: location.search, plot: playground.plot, drawn: playground.drawn, step: Number(document.getElementById('step').value), max: Number(document.getElementById('step').max)})")?;
    assert_eq!(seen["step"], seen["max"], "the whole race is shown");
    let request = request_from_url(seen["url"].as_str().unwrap());
    let r = post(addr, "/api/race", request.to_string().as_bytes())?;
    assert_eq!(r.status, 200, "{}", r.text());
    let answer = r.json()?;
    let plot = &seen["plot"];
    let num = |v: &Value| v.as_f64().unwrap();
    let (left, top, width, height) = (
        num(&plot["left"]),
        num(&plot["top"]),
        num(&plot["width"]),
        num(&plot["height"]),
    );
    let w: Vec<f64> = plot["window"].as_array().unwrap().iter().map(num).collect();
    let drawn: Vec<Vec<[f64; 2]>> = serde_json::from_value(seen["drawn"].clone())?;
    let runs = answer["runs"].as_array().unwrap();
    assert_eq!(drawn.len(), runs.len());
    let canvas = evaluate(tab, "(() => { const r = document.getElementById('plot').getBoundingClientRect(); return [r.left, r.top]; })()")?;
    let (cx, cy) = (num(&canvas[0]), num(&canvas[1]));
    let shot = Shot::take(tab)?;
    for (i, (run, trail)) in runs.iter().zip(&drawn).enumerate() {
        let points = run["trajectory"].as_array().unwrap();
        assert_eq!(points.len(), trail.len(), "run {i}");
        for (p, d) in points.iter().zip(trail) {
            let (x, y) = (num(&p[0]), num(&p[1]));
            let px = left + (x - w[0]) / (w[1] - w[0]) * width;
            let py = top + (w[3] - y) / (w[3] - w[2]) * height;
            assert!(
                (px - d[0]).abs() < 1e-9 && (py - d[1]).abs() < 1e-9,
                "run {i}: ({px}, {py}) drawn at {d:?}"
            );
        }
        if i + 1 == runs.len() {
            let inside: Vec<&[f64; 2]> = trail[1..]
                .iter()
                .filter(|d| {
                    d[0] > left + 3.0
                        && d[0] < left + width - 3.0
                        && d[1] > top + 3.0
                        && d[1] < top + height - 3.0
                })
                .collect();
            let coloured = inside
                .iter()
                .filter(|d| {
                    close(
                        shot.pixel((cx + d[0]).round() as usize, (cy + d[1]).round() as usize),
                        COLOURS[i],
                    )
                })
                .count();
            assert!(
                inside.len() >= 5 && coloured * 10 >= inside.len() * 9,
                "run {i}: {coloured} of {} points in its colour",
                inside.len()
            );
        }
    }
    Ok(drawn)
}

struct Shot {
    width: usize,
    rgb: Vec<u8>,
}

impl Shot {
    fn take(tab: &Tab) -> Result<Shot> {
        let png = tab.capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)?;
        let mut decoder = png::Decoder::new(std::io::Cursor::new(png));
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info()?;
        let mut buffer = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buffer)?;
        buffer.truncate(info.buffer_size());
        let channels = info.color_type.samples();
        let rgb = buffer
            .chunks_exact(channels)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        Ok(Shot {
            width: info.width as usize,
            rgb,
        })
    }

    fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }
}

fn close(p: [u8; 3], target: [u8; 3]) -> bool {
    let d: i32 = p
        .iter()
        .zip(target)
        .map(|(&a, b)| (a as i32 - b as i32).pow(2))
        .sum();
    d <= 40 * 40
}

/// The page point of data point (x, y).
fn to_page(tab: &Tab, x: f64, y: f64) -> Result<(f64, f64)> {
    let p = evaluate(tab, &format!("(() => {{ const r = document.getElementById('plot').getBoundingClientRect(); const [px, py] = playground.toPixel({x}, {y}); return [r.left + px, r.top + py]; }})()"))?;
    Ok((p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
}

#[test]
fn the_playground_drags_slides_reports_and_links_in_chromium() -> Result<()> {
    let Some(binary) = chromium() else {
        if std::env::var_os("OPTIMIST_REQUIRE_CHROMIUM").is_some() {
            return Err("OPTIMIST_REQUIRE_CHROMIUM is set, but no chromium was found".into());
        }
        writeln!(std::io::stderr(), "skipped: no chromium found")?;
        return Ok(());
    };
    let profile =
        std::env::temp_dir().join(format!("optimist-serve-browser-{}", std::process::id()));
    std::fs::create_dir_all(&profile)?;
    let result = drive(&binary, &profile);
    let _ = std::fs::remove_dir_all(&profile);
    result
}

fn drive(binary: &Path, profile: &Path) -> Result<()> {
    let addr = spawn(Limits::default())?;
    let browser = launch(binary, profile)?;
    let tab = browser.new_tab()?;
    let url = format!(
        "http://{addr}/?f=article&s=-7,2&n=30&o=sgd:lr=0.95&o=momentum:lr=0.1&o=adam:lr=0.3"
    );
    tab.navigate_to(&url)?.wait_until_navigated()?;
    redrawn(&tab, 0)?;
    let first = check_drawn(&tab, addr)?;

    // Dragging the start moves every trajectory: each now begins where it was dropped.
    let from = to_page(&tab, -7.0, 2.0)?;
    let to = to_page(&tab, 4.0, -3.0)?;
    let seen = seq(&tab)?;
    mouse(&tab, DispatchMouseEventTypeOption::MouseMoved, from, false)?;
    mouse(&tab, DispatchMouseEventTypeOption::MousePressed, from, true)?;
    for k in 1..=5 {
        let t = k as f64 / 5.0;
        let at = (from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t);
        mouse(&tab, DispatchMouseEventTypeOption::MouseMoved, at, true)?;
    }
    mouse(&tab, DispatchMouseEventTypeOption::MouseReleased, to, false)?;
    redrawn(&tab, seen)?;
    let start = evaluate(&tab, "playground.state.start")?;
    let (sx, sy) = (start[0].as_f64().unwrap(), start[1].as_f64().unwrap());
    assert!(
        (sx - 4.0).abs() < 0.1 && (sy + 3.0).abs() < 0.1,
        "start ({sx}, {sy})"
    );
    let dragged = check_drawn(&tab, addr)?;
    for (before, after) in first.iter().zip(&dragged) {
        assert_ne!(before[0], after[0]);
        assert_ne!(before.last(), after.last());
    }

    // A learning rate slid: the URL, the field and the trail all follow.
    let slider = evaluate(&tab, "(() => { const r = document.getElementById('slider-2-lr').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()")?;
    let n = |i: usize| slider[i].as_f64().unwrap();
    let seen = seq(&tab)?;
    tab.click_point(Point {
        x: n(0) + n(2) * 0.8,
        y: n(1) + n(3) / 2.0,
    })?;
    redrawn(&tab, seen)?;
    let lr = evaluate(&tab, "document.getElementById('field-2-lr').value")?;
    let lr: f64 = lr.as_str().unwrap().parse()?;
    assert!(lr > 0.3, "lr {lr} after sliding right");
    let search = evaluate(&tab, "location.search")?;
    let request = request_from_url(search.as_str().unwrap());
    assert_eq!(
        request["optimizers"][2],
        json!(format!(
            "adam:lr={}",
            evaluate(&tab, "document.getElementById('field-2-lr').value")?
                .as_str()
                .unwrap()
        ))
    );
    let slid = check_drawn(&tab, addr)?;
    assert_eq!(slid[0], dragged[0], "sgd did not change");
    assert_ne!(slid[2], dragged[2], "adam's trail changed");

    // The URL holds the whole state: opened afresh it draws the same.
    let link = evaluate(&tab, "location.href")?;
    let state = evaluate(&tab, "playground.state")?;
    let other = browser.new_tab()?;
    other
        .navigate_to(link.as_str().unwrap())?
        .wait_until_navigated()?;
    redrawn(&other, 0)?;
    assert_eq!(evaluate(&other, "playground.state")?, state);
    assert_eq!(check_drawn(&other, addr)?, slid);
    other.close(true)?;

    // A bad formula shows its error at its column, as the API words it.
    let seen = seq(&tab)?;
    tab.find_element("#function")?.click()?;
    tab.press_key_with_modifiers("a", Some(&[ModifierKey::Ctrl]))?;
    tab.type_str("x^2 + * y")?;
    wait_until(&tab, "!document.getElementById('formula-error').hidden")?;
    assert!(seq(&tab)? > seen);
    let shown = evaluate(&tab, "document.getElementById('formula-error').textContent")?;
    let column = evaluate(
        &tab,
        "document.getElementById('formula-error').dataset.column",
    )?;
    let api = post(
        addr,
        "/api/landscape",
        json!({"function": "x^2 + * y"}).to_string().as_bytes(),
    )?
    .json()?;
    assert_eq!(shown, api["error"]);
    assert_eq!(column, json!("7"));
    assert!(shown.as_str().unwrap().contains("(column 7)"), "{shown}");
    // Fixed, the error goes and the new landscape is raced.
    let seen = seq(&tab)?;
    tab.press_key("Backspace")?;
    tab.press_key("Backspace")?;
    tab.press_key("Backspace")?;
    tab.type_str("y^2")?;
    redrawn(&tab, seen)?;
    wait_until(&tab, "document.getElementById('formula-error').hidden && playground.state.function === 'x^2 + y^2'")?;
    std::thread::sleep(Duration::from_millis(300));
    check_drawn(&tab, addr)?;

    // The round trip for 6 optimizers × 1,000 steps, as the page measures it (printed).
    let six = [
        "sgd:lr=0.001",
        "momentum:lr=0.0005",
        "nesterov:lr=0.0005",
        "adagrad:lr=0.1",
        "rmsprop:lr=0.005",
        "adam:lr=0.02",
    ]
    .iter()
    .map(|o| format!("&o={o}"))
    .collect::<String>();
    tab.navigate_to(&format!("http://{addr}/?f=rosenbrock&s=-1.5,2&n=1000{six}"))?
        .wait_until_navigated()?;
    redrawn(&tab, 0)?;
    let mut times = Vec::new();
    for k in 0..20 {
        let seen = seq(&tab)?;
        let at = to_page(&tab, -1.5 + 0.05 * k as f64, 2.0 - 0.05 * k as f64)?;
        tab.click_point(Point { x: at.0, y: at.1 })?;
        redrawn(&tab, seen)?;
        times.push(evaluate(&tab, "playground.latency")?.as_f64().unwrap());
    }
    times.sort_by(f64::total_cmp);
    writeln!(
        std::io::stderr(),
        "page round trip, 6 optimizers × 1,000 steps: median {:.1} ms, max {:.1} ms over {} races",
        times[times.len() / 2],
        times[times.len() - 1],
        times.len()
    )?;
    Ok(())
}
