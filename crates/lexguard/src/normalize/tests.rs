use super::*;

fn norm(s: &str) -> String {
    Normalizer::new(NormalizeOptions::new()).normalize(s.as_bytes()).text
}

fn norm_with(opts: NormalizeOptions, s: &str) -> String {
    Normalizer::new(opts).normalize(s.as_bytes()).text
}

#[test]
fn folds_and_skips() {
    assert_eq!(norm("網上賭博"), "网上赌博");
    assert_eq!(norm("赌 博"), "赌博");
    assert_eq!(norm("赌❤☆博"), "赌博");
    assert_eq!(norm("赌\u{200B}博"), "赌博");
    assert_eq!(norm("ＶＩＡＧＲＡ"), "viagra");
    assert_eq!(norm("加 薇❤信：１２３４５６"), "加薇信123456");
    assert_eq!(norm("Hello,  World"), "hello,world");
    assert_eq!(norm("free   money"), "free money");
    assert_eq!(norm("fr*ee mo-ney"), "free money");
    assert_eq!(norm("I feel free, money"), "i feel free,money");
}

#[test]
fn gaps_between_words() {
    // The first sentence punctuation of a gap is what it is written as.
    assert_eq!(norm("free?! money"), "free?money");
    assert_eq!(norm("free !?money"), "free!money");
    assert_eq!(norm("free，。money"), "free,money");
    // Whitespace with symbols is one space; symbols alone join the words.
    assert_eq!(norm("free - money"), "free money");
    assert_eq!(norm("free-*money"), "freemoney");
    // A run of whitespace counts once towards the longest gap skipped (5), symbols each.
    assert_eq!(norm("free \n\t  \n money"), "free money");
    assert_eq!(norm("free -- money"), "free money");
    assert_eq!(norm("free - - - money"), "free\nmoney");
    assert_eq!(norm("free-----money"), "freemoney");
    assert_eq!(norm("free------money"), "free\nmoney");
    // Between a number and a word, the same.
    assert_eq!(norm("2024, money"), "2024,money");
    assert_eq!(norm("$5 -- money"), "5 money");
    // A space written for a gap that held symbols is a separator; a plain one is not.
    let n = Normalizer::new(NormalizeOptions::new());
    let flags = |text: &str| {
        let normed = n.normalize(text.as_bytes());
        assert_eq!(normed.text, "free money");
        n.map_back(text.as_bytes(), &normed, 3, 6).flags
    };
    assert!(flags("free - money").contains(Flags::SEPARATOR));
    assert!(!flags("free  money").contains(Flags::SEPARATOR));
}

#[test]
fn leet_inside_words_only() {
    assert_eq!(norm("v1agra"), "viagra");
    assert_eq!(norm("b00bs"), "boobs");
    assert_eq!(norm("ca$ino"), "casino");
    assert_eq!(norm("qq123456"), "qq123456");
    assert_eq!(norm("mp3"), "mp3");
    assert_eq!(norm("2023年"), "2023年");
    assert_eq!(norm("a000b"), "a000b");
    assert_eq!(norm_with(NormalizeOptions::new().leet(false), "v1agra"), "v1agra");
}

#[test]
fn spaced_letters_join() {
    assert_eq!(norm("v i a g r a"), "viagra");
    assert_eq!(norm("v.i.a.g.r.a"), "viagra");
    assert_eq!(norm("1 3 8 0 0"), "13800");
    assert_eq!(norm("a b"), "a b");
    assert_eq!(norm("a b cd"), "a b cd");
    assert_eq!(norm("W.E.B. Du Bois"), "web.du bois");
}

#[test]
fn long_gaps_break() {
    assert_eq!(norm("赌------博"), "赌\n博");
    assert_eq!(norm("赌-----博"), "赌博");
    assert_eq!(norm("赌     博"), "赌博");
    assert_eq!(norm_with(NormalizeOptions::new().max_gap(1), "赌--博"), "赌\n博");
}

#[test]
fn separators_off() {
    let o = NormalizeOptions::new().separators(false);
    assert_eq!(norm_with(o, "赌 博"), "赌\n博");
    assert_eq!(norm_with(o, "free money"), "free money");
    assert_eq!(norm_with(o, "sex-shop"), "sex\nshop");
}

#[test]
fn invalid_utf8_is_noise() {
    let n = Normalizer::new(NormalizeOptions::new());
    assert_eq!(n.normalize(b"\xff\xfe\xe8\xb5").text, "");
    assert_eq!(n.normalize("赌\u{FFFD}博".as_bytes()).text, "赌博");
    let mut v = "赌".as_bytes().to_vec();
    v.push(0xff);
    v.extend_from_slice("博".as_bytes());
    assert_eq!(n.normalize(&v).text, "赌博");
}

#[test]
fn map_back_is_exact() {
    let n = Normalizer::new(NormalizeOptions::new());
    let text = "前文 網上 賭❤博 後文";
    let normed = n.normalize(text.as_bytes());
    let start = normed.text.find("赌博").unwrap();
    let m = n.map_back(text.as_bytes(), &normed, start, start + "赌博".len());
    assert_eq!(&text[m.start..m.end], "賭❤博");
    assert!(m.flags.contains(Flags::TRADITIONAL | Flags::SEPARATOR));
    assert!(!m.flags.contains(Flags::PUNCTUATION));
}

#[test]
fn sparse_changes_keep_one_segment() {
    // A capital letter per word, a line break between short strings: bytes changed here and
    // there, every length kept. One segment for the whole text, not two per change; map-back
    // still finds the changed bytes.
    let n = Normalizer::new(NormalizeOptions::new());
    for (text, word, orig) in [("Opening Hours For Visitors", "hours", "Hours"), ("ab\ncd\nef\ngh\nij", "ef", "ef")] {
        let normed = n.normalize(text.as_bytes());
        assert_eq!(normed.segments.len(), 1, "{text:?}: {:?}", normed.segments);
        let start = normed.text.find(word).unwrap();
        let m = n.map_back(text.as_bytes(), &normed, start, start + word.len());
        assert_eq!(&text[m.start..m.end], orig);
        assert_eq!(m.flags, n.flags_of(text.as_bytes(), m.start, m.end));
    }
}

#[test]
fn map_back_across_checkpoints() {
    let n = Normalizer::new(NormalizeOptions::new());
    let text = "中文内容，".repeat(3000) + "賭。博" + &"尾".repeat(300);
    let normed = n.normalize(text.as_bytes());
    assert!(normed.checkpoints.len() > 5);
    let start = normed.text.find("赌博").unwrap();
    let m = n.map_back(text.as_bytes(), &normed, start, start + "赌博".len());
    assert_eq!(&text[m.start..m.end], "賭。博");
    assert!(m.flags.contains(Flags::PUNCTUATION));
}

#[test]
fn term_flags() {
    let n = Normalizer::new(NormalizeOptions::new());
    assert_eq!(n.normalize_term("賭博"), ("赌博".to_string(), Flags::TRADITIONAL));
    assert_eq!(n.normalize_term("free money").0, "free money");
    assert_eq!(n.normalize_term("  ").0, "");
}

#[test]
fn decode_agrees_with_lossy_decoding() {
    let cases: &[&[u8]] = &[
        b"abc",
        "赌博😀é".as_bytes(),
        b"\xff\xfe",
        b"\xe8\xb5",
        b"\xed\xa0\x80x",
        b"\xf0\x9f\x98",
        b"\xc0\xaf",
        b"\xf4\x90\x80\x80",
        b"a\xe2\x82\xacb\xe2\x82",
    ];
    for bytes in cases {
        let mut got = String::new();
        let mut pos = 0;
        while pos < bytes.len() {
            match decode(bytes, pos) {
                Ok((c, n)) => {
                    got.push(c);
                    pos += n;
                }
                Err(n) => {
                    got.push('\u{FFFD}');
                    pos += n;
                }
            }
        }
        assert_eq!(got, String::from_utf8_lossy(bytes), "{bytes:?}");
    }
}

mod fast_paths {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn small_letters_are_counted_eight_at_a_time() {
        // Every byte value at every position, the others small letters.
        for pos in 0..8 {
            for v in 0..=255u8 {
                let mut bytes = *b"qwertyza";
                bytes[pos] = v;
                let want = bytes.iter().take_while(|b| b.is_ascii_lowercase()).count();
                assert_eq!(super::super::small_letters_prefix(u64::from_le_bytes(bytes)), want, "{bytes:?}");
            }
        }
        assert_eq!(super::super::small_letters_prefix(u64::from_le_bytes(*b"abcdefgz")), 8);
        assert_eq!(super::super::SMALL_LETTERS_64_127.count_ones(), 26);
    }

    /// Characters that exercise every class and both fast paths.
    const ALPHABET: &[char] = &[
        'a', 'e', 'x', 'z', 'E', 'X', '0', '1', '3', '5', '9', '$', ' ', ' ', '\t', '\n', '-', '*', '.', ',', '!',
        '赌', '博', '網', '站', '，', '。', 'é', 'ß', 'д', 'а', 'о', 'Д', 'α', 'ο', 'ש', 'ب', 'क', 'ｆ', 'Ｒ',
        '\u{200B}', '\u{00AD}', '😀', '㍿', 'ﬁ', '①', '\u{FFFD}', '、', '★', '\u{3000}', '中', '文',
    ];

    /// Words and spacing that exercise the run across spaces (`free money`, `v i a`, `a Bc`),
    /// single punctuation marks, line breaks and symbols (`ab,cd`, `ab\nCd`, `ab-cd`),
    /// the gaps written between words (`free, money`, line breaks, gaps too long to skip or to
    /// stay on the fast path, single letters between punctuation, numbers and `$` in gaps),
    /// words of two-byte scripts with their letters kept (`مرحبا`, `שלום`) or mostly folded
    /// (`Καλημέρα`), and words with letters folded to one other letter or invisible marks
    /// inside (`привет`, `café`, `नमस्ते`, `ﬁ` and `㍿` expand, `ｆ` is full width).
    const PIECES: &[&str] = &[
        "free",
        " ",
        "money",
        "a",
        "Bc",
        "xY",
        "q",
        " z",
        "ab cd",
        "d0g",
        "s e x",
        ", ",
        ".\n",
        "\r\n",
        "  ",
        ";",
        "?",
        ": \t",
        "привет",
        " мир",
        "Дом",
        "café",
        "naïve",
        "नमस्ते",
        "so\u{00AD}ft",
        "ab ｆree",
        "ab é",
        "nаme",
        "ab ﬁx",
        "ёж",
        "ab c",
        " -- ",
        "\n\n    *** ==\n",
        "(\"",
        "' ",
        "x, y",
        "e. ",
        ", 2024 ",
        " $id",
        "4$ ",
        "2nd",
        "مرحبا",
        " שלום",
        "Καλημέρα",
        " - * - * - * - * - * - * - * - * -\n\n\t- * - * - * - * - * - * - * - * - * - * ",
        "ab,cd",
        "Ab.Cd",
        "ab:",
        "?Zz",
        "ab\ncd",
        "ab\nCd",
        "ab\nаb",
        "\nb",
        "xy\n",
        "ab-cd",
        "Ab_Cd",
        "ab/",
        "'x",
        "4ｆ",
        "12px",
        "1 ab",
    ];

    fn text() -> impl Strategy<Value = String> {
        let unit = prop_oneof![
            prop::sample::select(ALPHABET).prop_map(String::from),
            prop::sample::select(PIECES).prop_map(String::from),
        ];
        prop::collection::vec(unit, 0..60).prop_map(|v| v.concat())
    }

    fn options() -> impl Strategy<Value = NormalizeOptions> {
        prop::sample::select(vec![
            NormalizeOptions::new(),
            NormalizeOptions { leet: false, ..NormalizeOptions::new() },
            NormalizeOptions { separators: false, ..NormalizeOptions::new() },
            NormalizeOptions { max_gap: 0, ..NormalizeOptions::new() },
            NormalizeOptions { case: false, homoglyph: false, ..NormalizeOptions::new() },
            NormalizeOptions::none(),
        ])
    }

    /// A sink that records, for every normalized character, the original bytes the state
    /// machine produced it from: the oracle for map-back.
    #[derive(Default)]
    struct Spans {
        text: String,
        spans: Vec<(usize, (usize, usize))>,
    }

    impl Sink for Spans {
        fn push(&mut self, c: char, orig: (usize, usize), _: Flags) {
            self.spans.push((self.text.len(), orig));
            self.text.push(c);
        }
        fn note(&mut self, _: (usize, usize), _: Flags) {}
        fn before(&mut self, _: usize, _: &State) -> bool {
            false
        }
    }

    /// The state machine `slow`, resumed over `input` from each of `checkpoints`, writes the
    /// rest of `text` from the checkpoint's normalized offset on.
    fn resumes_to<'c>(
        slow: &Normalizer,
        input: &[u8],
        checkpoints: impl IntoIterator<Item = &'c Checkpoint>,
        text: &str,
    ) -> Result<(), TestCaseError> {
        for cp in checkpoints {
            let mut rest = Normalized::default();
            slow.run(input, cp.orig, cp.state, &mut Collect::new(&mut rest, input));
            prop_assert_eq!(&rest.text, &text[cp.norm..], "resumed at {:?}", cp);
        }
        Ok(())
    }

    proptest! {
        /// Every normalized character maps back to exactly the original bytes it was made
        /// from, as the state machine reports them one character at a time.
        #[test]
        fn map_back_finds_each_characters_origin(s in text(), opts in options()) {
            let n = Normalizer::new(opts);
            let input = s.as_bytes();
            let norm = n.normalize(input);
            let mut oracle = Spans::default();
            n.run(input, 0, State::default(), &mut oracle);
            prop_assert_eq!(&norm.text, &oracle.text);
            let mut cursor = 0;
            for (k, &(at, orig)) in oracle.spans.iter().enumerate() {
                let end = oracle.spans.get(k + 1).map_or(norm.text.len(), |x| x.0);
                let m = n.map_back_from(input, &norm, at, end, &mut cursor);
                prop_assert_eq!((m.start, m.end), orig, "{:?} at {}", &norm.text[at..end], at);
            }
        }

        #[test]
        fn map_back_knows_unchanged_runs(s in text(), opts in options()) {
            // Map-back skips re-reading the input inside runs of the very same bytes; every
            // range of up to four characters it calls unchanged must be the same bytes in the
            // input, and any other range gets the flags a run over it finds.
            let n = Normalizer::new(opts);
            let input = s.as_bytes();
            let norm = n.normalize(input);
            let starts: Vec<usize> = norm.text.char_indices().map(|(i, _)| i).collect();
            for (k, &i) in starts.iter().enumerate() {
                for j in k + 1..=(k + 4).min(starts.len()) {
                    let end = starts.get(j).copied().unwrap_or(norm.text.len());
                    let m = n.map_back(input, &norm, i, end);
                    if input[m.start..m.end] == norm.text.as_bytes()[i..end] {
                        continue;
                    }
                    prop_assert_eq!(m.flags, n.flags_of(input, m.start, m.end), "{:?} at {}..{}", &norm.text[i..end], i, end);
                }
            }
        }

        /// The fast paths (runs of unchanged CJK and the lone noise characters between them,
        /// runs of unchanged letters inside a word) produce exactly what the
        /// character-by-character state machine produces: the same text, the same original span
        /// and flags for every range of up to four normalized characters, and
        /// checkpoints from which normalization resumes to the same output.
        #[test]
        fn agree_with_the_state_machine(s in text(), opts in options()) {
            let fast = Normalizer::new(opts);
            let slow = Normalizer { fast: false, ..fast.clone() };
            let input = s.as_bytes();
            let (a, b) = (fast.normalize(input), slow.normalize(input));
            prop_assert_eq!(&a.text, &b.text);
            // Every character, and every range of up to four characters that does not start
            // inside a word: a range across a gap carries the gap's flags (`separator`,
            // `punctuation`), which a single character never shows. (Flags are read by running
            // the state machine afresh from the range's start, so a range starting inside a
            // Latin word sees a shorter word; hits of Latin terms start at word boundaries.)
            let starts: Vec<usize> = a.text.char_indices().map(|(i, _)| i).collect();
            for (k, &i) in starts.iter().enumerate() {
                let inside_word = a.text[..i].chars().next_back().is_some_and(|c| c.is_alphanumeric() && !is_cjk(c));
                let longest = if inside_word { 1 } else { 4 };
                for j in k + 1..=(k + longest).min(starts.len()) {
                    let end = starts.get(j).copied().unwrap_or(a.text.len());
                    prop_assert_eq!(
                        fast.map_back(input, &a, i, end),
                        slow.map_back(input, &b, i, end),
                        "{:?} at {}..{}", &a.text[i..end], i, end
                    );
                }
            }
            // Text known to be UTF-8 skips validation and must give the very same document.
            let mut c = Normalized::default();
            fast.normalize_str_into(&s, &mut c);
            prop_assert_eq!(&c.text, &a.text);
            prop_assert_eq!(&c.segments, &a.segments);
            prop_assert_eq!(c.checkpoints.len(), a.checkpoints.len());
            for (x, y) in c.checkpoints.iter().zip(&a.checkpoints) {
                prop_assert_eq!((x.orig, x.norm, x.state), (y.orig, y.norm, y.state));
            }
            prop_assert!(!c.invalid);
            resumes_to(&slow, input, a.checkpoints.iter().chain(&b.checkpoints), &a.text)?;
        }

        /// A checkpoint wherever the fast paths ask the sink for one (every run, gap and
        /// written unit): the state they carry there resumes, on the state machine, to the
        /// same output. (Map-back resumes from checkpoints, which a long text has every few
        /// kilobytes, wherever they fall.)
        #[test]
        fn resume_from_wherever_the_fast_paths_stop(s in text(), opts in options()) {
            let fast = Normalizer::new(opts);
            let slow = Normalizer { fast: false, ..fast.clone() };
            let input = s.as_bytes();
            let mut a = Normalized::default();
            fast.run(input, 0, State::default(), &mut Collect::every(&mut a, input, 1));
            prop_assert_eq!(&a.text, &slow.normalize(input).text);
            resumes_to(&slow, input, &a.checkpoints, &a.text)?;
        }
    }
}

#[test]
fn utf8_of_a_char() {
    for c in ['a', 'é', '中', '😀', '\0'] {
        let mut buf = [0; 4];
        let s = c.encode_utf8(&mut buf).as_bytes();
        assert!(is_utf8_of(s, c), "{c:?}");
        // Shorter, longer, or one byte off: not its UTF-8.
        assert!(!is_utf8_of(&s[..s.len() - 1], c), "{c:?} truncated");
        assert!(!is_utf8_of(&[s, b"x"].concat(), c), "{c:?} with a byte more");
        for i in 0..s.len() {
            let mut t = s.to_vec();
            t[i] ^= 1;
            assert!(!is_utf8_of(&t, c), "{c:?} byte {i} changed");
        }
    }
    assert!(!is_utf8_of(b"A", 'a'));
    assert!(!is_utf8_of("丰".as_bytes(), '中'));
}

#[test]
fn japanese_shinjitai_fold_and_chinese_characters_stay() {
    assert_eq!(norm("百家楽 売春 薬 覚醒剤 黒社会"), "百家乐卖春药觉醒剂黑社会");
    // Characters Chinese writes, which OpenCC also lists as shinjitai of older forms, stay.
    for c in ["研究", "欠款", "新郎", "给予", "沙家浜", "萌", "翻译"] {
        assert_eq!(norm(c), c);
    }
}
