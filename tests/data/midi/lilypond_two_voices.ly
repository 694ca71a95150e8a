% Source of lilypond_two_voices.mid (see README.md): a lead and a backing voice, each with
% its own lyrics, which LilyPond writes to separate tracks; no End marker.
\version "2.24.0"
\header { title = "Two Voices" }
lead = \relative c'' { \tempo 4 = 132 \time 4/4 \mark "Verse" g4 a b c | d1 | \mark "Chorus" e4 d c b | c1 | }
backing = \relative c' { e2 f | g1 | c2 b | c1 | }
\score {
  <<
    \new Staff \new Voice = "lead" { \lead }
    \new Lyrics \lyricsto "lead" { Hel -- lo my old friend so -- ng of mine }
    \new Staff \new Voice = "back" { \backing }
    \new Lyrics \lyricsto "back" { Ooh ah ooh ah ooh ah }
  >>
  \midi { }
}
