/*
 * Tests for svg: escaping, ticks, and the structure of the charts (axes,
 * one bar per category, tooltips, refusals).
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"

/* Occurrences of needle in hay. */
static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_svg_esc_escapes_markup_and_drops_controls(void)
{
    struct buf b;
    struct eng_err err = {0};
    buf_init(&b, 1024);
    CU_ASSERT_EQUAL(svg_esc(&b, "<script>a&b\"c'd\x01</script>", &err),
                    ENG_OK);
    CU_ASSERT_STRING_EQUAL(b.data, "&lt;script&gt;a&amp;b&quot;c&#39;d"
                           "&lt;/script&gt;");
    buf_release(&b);
}

static void test_svg_ticks_are_nice_and_cover_the_range(void)
{
    double t[16];
    int n;
    svg_ticks(0, 1, 5, t, &n);
    CU_ASSERT_EQUAL(n, 6);
    CU_ASSERT_DOUBLE_EQUAL(t[0], 0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(t[1], 0.2, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(t[5], 1, 1e-12);
    /* step 200: 200 .. 800, 1000 being past the end */
    svg_ticks(3, 997, 5, t, &n);
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT_DOUBLE_EQUAL(t[0], 200, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(t[3], 800, 1e-9);
    svg_ticks(-0.3, 0.3, 4, t, &n);
    CU_ASSERT(n >= 3);
    CU_ASSERT_DOUBLE_EQUAL(t[0], -0.2, 1e-12);
    for (int i = 0; i < n; i++)
        CU_ASSERT(t[i] >= -0.3 && t[i] <= 0.3);
}

static void test_svg_bar_chart_has_axes_one_bar_per_category(void)
{
    static const char *const cats[] = {"A", "B", "C", "D", "<E>"};
    double y[5] = {10, 20, NAN, 40, 50};
    double z[5] = {1, 2, 3, 4, 5};
    struct svg_chart c;
    svg_chart_init(&c);
    c.id = "chart-t";
    c.title = "Title & more";
    c.x_label = "band";
    c.y_label = "rows";
    c.categories = cats;
    c.n_categories = 5;
    struct svg_series s[2] = {{"run", NULL, y, 5, SVG_BARS},
                              {"model", NULL, z, 5, SVG_BARS}};
    struct buf b;
    struct eng_err err = {0};
    buf_init(&b, 1 << 20);
    CU_ASSERT_EQUAL(svg_chart(&b, &c, s, 2, &err), ENG_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "<g class=\"axis-x\">"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "<g class=\"axis-y\">"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "id=\"chart-t\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "<title>Title &amp; more</title>"));
    CU_ASSERT_PTR_NULL(strstr(b.data, "<E>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "&lt;E&gt;"));
    /* a NAN value draws no bar: 4 + 5 bars, each with its tooltip */
    CU_ASSERT_EQUAL(count(b.data, "class=\"bar s0\""), 4);
    CU_ASSERT_EQUAL(count(b.data, "class=\"bar s1\""), 5);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "<title>run: D = 40</title>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "role=\"img\""));
    CU_ASSERT(count(b.data, "class=\"tick\"") >= 5 + 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "</svg></figure>"));
    buf_release(&b);
}

static void test_svg_line_chart_lifts_the_pen_over_nan(void)
{
    double x[4] = {0, 0.5, 0.75, 1};
    double y[4] = {0, NAN, 0.5, 1};
    struct svg_chart c;
    svg_chart_init(&c);
    c.diagonal = 1;
    c.x_percent = 1;
    struct svg_series s = {"curve", x, y, 4, SVG_LINE};
    struct buf b;
    struct eng_err err = {0};
    buf_init(&b, 1 << 20);
    CU_ASSERT_EQUAL(svg_chart(&b, &c, &s, 1, &err), ENG_OK);
    const char *d = strstr(b.data, "class=\"line s0\" d=\"");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    d += strlen("class=\"line s0\" d=\"");
    const char *end = strchr(d, '"');
    size_t moves = 0;
    for (const char *p = d; p < end; p++)
        moves += *p == 'M';
    CU_ASSERT_EQUAL(moves, 2);
    CU_ASSERT_EQUAL(count(b.data, "class=\"pt s0\""), 3);
    CU_ASSERT_EQUAL(count(b.data, "class=\"ref\""), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, ">100%</text>"));
    buf_release(&b);
}

static void test_svg_chart_refuses_series_that_do_not_fit(void)
{
    static const char *const cats[] = {"a", "b"};
    double y[3] = {1, 2, 3};
    struct svg_chart c;
    svg_chart_init(&c);
    c.categories = cats;
    c.n_categories = 2;
    struct svg_series s = {"s", NULL, y, 3, SVG_BARS};
    struct buf b;
    struct eng_err err = {0};
    buf_init(&b, 1 << 20);
    CU_ASSERT_EQUAL(svg_chart(&b, &c, &s, 1, &err), ENG_EUSAGE);
    CU_ASSERT_EQUAL(svg_chart(&b, &c, &s, 0, &err), ENG_EUSAGE);
    c.categories = NULL;   /* numeric chart without x */
    CU_ASSERT_EQUAL(svg_chart(&b, &c, &s, 1, &err), ENG_EUSAGE);
    buf_release(&b);
}

static CU_TestInfo svg_tests[] = {
    {"esc escapes markup and drops controls",
     test_svg_esc_escapes_markup_and_drops_controls},
    {"ticks are nice and cover the range",
     test_svg_ticks_are_nice_and_cover_the_range},
    {"bar chart has axes, one bar per category",
     test_svg_bar_chart_has_axes_one_bar_per_category},
    {"line chart lifts the pen over NAN",
     test_svg_line_chart_lifts_the_pen_over_nan},
    {"chart refuses series that do not fit",
     test_svg_chart_refuses_series_that_do_not_fit},
    CU_TEST_INFO_NULL
};

CU_SuiteInfo test_svg_suites[] = {
    {"svg", NULL, NULL, NULL, NULL, svg_tests},
    CU_SUITE_INFO_NULL
};
