/* keywords._automaton: a dense Aho-Corasick automaton (a DFA) over the characters of a str, for
 * keywords.matcher's skeleton scan and keywords.prefilter's regex gate.
 *
 * pyahocorasick follows a node's children by search and its failure links at run time; this automaton resolves
 * every failure link once, when it is built, into a full transition table (one row per trie node, one column
 * per character class, 16-bit state numbers: at most 65,535 states), so the scan costs one class lookup and
 * one table load per character. Every character that occurs in a key has its own class; all other characters
 * share class 0, which keeps the table as small as the keys' alphabet. Classes of the Basic Multilingual Plane are looked up in a 64K table, the few others
 * (keys with characters of the supplementary planes) by binary search. The scan reads the str's own storage
 * (Latin-1, UCS-2 or UCS-4) and reports character indices, so nothing is copied or encoded.
 *
 * Matches are reported as pyahocorasick's Automaton.iter reports them: in order of their last character and,
 * at one position, longest key first.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* States are numbered in 16 bits; 0xFFFF marks a missing transition while the trie is built. */
#define MAX_STATES 0xFFFF
#define NONE 0xFFFF

typedef struct {
    Py_UCS4 ch;
    int32_t cls;
} AstralClass;

typedef struct {
    PyObject_HEAD
    uint16_t *delta;       /* states * classes transitions (at most 65,535 states: half the memory of int32) */
    int32_t *word;         /* per state: index of the key ending here, or -1 */
    int32_t *link;         /* per state: the next shorter suffix state that ends a key, or -1 */
    uint16_t *bmp_class;   /* class of every character below U+10000 */
    AstralClass *astral;   /* classes of the key characters above U+FFFF, sorted by character */
    Py_ssize_t astral_count;
    Py_ssize_t states;
    Py_ssize_t classes;
    int32_t *key_length;   /* per key: its length in characters */
    PyObject *values;      /* list: value of key i */
} DenseAutomaton;

static void
DenseAutomaton_dealloc(DenseAutomaton *self)
{
    PyMem_Free(self->delta);
    PyMem_Free(self->word);
    PyMem_Free(self->link);
    PyMem_Free(self->bmp_class);
    PyMem_Free(self->astral);
    PyMem_Free(self->key_length);
    Py_XDECREF(self->values);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
compare_astral(const void *a, const void *b)
{
    Py_UCS4 x = ((const AstralClass *)a)->ch, y = ((const AstralClass *)b)->ch;
    return x < y ? -1 : x > y;
}

static inline int32_t
class_of(const DenseAutomaton *self, Py_UCS4 ch)
{
    if (ch < 0x10000)
        return self->bmp_class[ch];
    Py_ssize_t lo = 0, hi = self->astral_count;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (self->astral[mid].ch < ch)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < self->astral_count && self->astral[lo].ch == ch ? self->astral[lo].cls : 0;
}

/* The number of distinct characters of the keys (+1 for class 0) and their total length (+1 for the root), or
 * -1 with an exception set. With ``bmp``/``astral`` given, also assigns the classes. */
static int
alphabet(PyObject *keys, Py_ssize_t *classes, Py_ssize_t *total, uint16_t *bmp, AstralClass **astral,
         Py_ssize_t *astral_count)
{
    Py_ssize_t count = PyList_GET_SIZE(keys);
    PyObject *seen = PySet_New(NULL);
    if (seen == NULL)
        return -1;
    *total = 1;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *key = PyList_GET_ITEM(keys, k);
        if (!PyUnicode_Check(key) || PyUnicode_GET_LENGTH(key) == 0) {
            PyErr_SetString(PyExc_TypeError, "keys must be non-empty str");
            Py_DECREF(seen);
            return -1;
        }
        *total += PyUnicode_GET_LENGTH(key);
        const int kind = PyUnicode_KIND(key);
        const void *data = PyUnicode_DATA(key);
        for (Py_ssize_t i = 0; i < PyUnicode_GET_LENGTH(key); i++) {
            PyObject *code = PyLong_FromUnsignedLong(PyUnicode_READ(kind, data, i));
            if (code == NULL || PySet_Add(seen, code) < 0) {
                Py_XDECREF(code);
                Py_DECREF(seen);
                return -1;
            }
            Py_DECREF(code);
        }
    }
    *classes = PySet_GET_SIZE(seen) + 1;
    if (*classes > 0xFFFF) {
        PyErr_SetString(PyExc_OverflowError, "too many distinct characters");
        Py_DECREF(seen);
        return -1;
    }
    if (bmp != NULL) {
        /* Classes in order of the characters, so that the table does not depend on set order. */
        PyObject *sorted = PySequence_List(seen);
        if (sorted == NULL || PyList_Sort(sorted) < 0) {
            Py_XDECREF(sorted);
            Py_DECREF(seen);
            return -1;
        }
        Py_ssize_t n = PyList_GET_SIZE(sorted);
        *astral = PyMem_Malloc(sizeof(AstralClass) * (size_t)(n ? n : 1));
        if (*astral == NULL) {
            Py_DECREF(sorted);
            Py_DECREF(seen);
            PyErr_NoMemory();
            return -1;
        }
        *astral_count = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_UCS4 ch = (Py_UCS4)PyLong_AsUnsignedLong(PyList_GET_ITEM(sorted, i));
            if (ch < 0x10000) {
                bmp[ch] = (uint16_t)(i + 1);
            } else {
                (*astral)[*astral_count].ch = ch;
                (*astral)[*astral_count].cls = (int32_t)(i + 1);
                (*astral_count)++;
            }
        }
        qsort(*astral, (size_t)*astral_count, sizeof(AstralClass), compare_astral);
        Py_DECREF(sorted);
    }
    Py_DECREF(seen);
    return 0;
}

/* DenseAutomaton(keys: list[str], values: list): key i reports values[i]; keys must be distinct and
 * non-empty. */
static int
DenseAutomaton_init(DenseAutomaton *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"keys", "values", NULL};
    PyObject *keys, *values;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!", kwlist, &PyList_Type, &keys, &PyList_Type, &values))
        return -1;
    Py_ssize_t count = PyList_GET_SIZE(keys);
    if (PyList_GET_SIZE(values) != count) {
        PyErr_SetString(PyExc_ValueError, "keys and values differ in length");
        return -1;
    }
    if (self->delta != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "DenseAutomaton is already built");
        return -1;
    }
    uint16_t *bmp = PyMem_Calloc(0x10000, sizeof(uint16_t));
    if (bmp == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    AstralClass *astral = NULL;
    Py_ssize_t astral_count = 0, classes, total;
    if (alphabet(keys, &classes, &total, bmp, &astral, &astral_count) < 0) {
        PyMem_Free(bmp);
        return -1;
    }
    if (total > MAX_STATES) {
        PyMem_Free(bmp);
        PyMem_Free(astral);
        PyErr_SetString(PyExc_OverflowError, "automaton too large: over 65,535 states");
        return -1;
    }
    self->bmp_class = bmp;
    self->astral = astral;
    self->astral_count = astral_count;
    self->classes = classes;

    /* The trie: at most one state per key character plus the root; missing transitions are -1 for now. */
    uint16_t *delta = PyMem_Malloc(sizeof(uint16_t) * (size_t)total * (size_t)classes);
    int32_t *word = PyMem_Malloc(sizeof(int32_t) * (size_t)total);
    int32_t *link = PyMem_Malloc(sizeof(int32_t) * (size_t)total);
    int32_t *fail = PyMem_Malloc(sizeof(int32_t) * (size_t)total);
    int32_t *queue = PyMem_Malloc(sizeof(int32_t) * (size_t)total);
    int32_t *key_length = PyMem_Malloc(sizeof(int32_t) * (size_t)(count ? count : 1));
    if (!delta || !word || !link || !fail || !queue || !key_length) {
        PyMem_Free(delta); PyMem_Free(word); PyMem_Free(link); PyMem_Free(fail); PyMem_Free(queue);
        PyMem_Free(key_length);
        PyErr_NoMemory();
        return -1;
    }
    memset(delta, 0xff, sizeof(uint16_t) * (size_t)total * (size_t)classes); /* 0xFFFF: no transition yet */
    memset(word, 0xff, sizeof(int32_t) * (size_t)total);
    int32_t states = 1;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *key = PyList_GET_ITEM(keys, k);
        const int kind = PyUnicode_KIND(key);
        const void *data = PyUnicode_DATA(key);
        int32_t state = 0;
        for (Py_ssize_t i = 0; i < PyUnicode_GET_LENGTH(key); i++) {
            uint16_t *next = &delta[(size_t)state * classes + class_of(self, PyUnicode_READ(kind, data, i))];
            if (*next == NONE)
                *next = (uint16_t)states++;
            state = *next;
        }
        word[state] = (int32_t)k;
        key_length[k] = (int32_t)PyUnicode_GET_LENGTH(key);
    }

    /* Breadth first: failure links, output links, and every missing transition resolved through the failure
     * link (whose row is complete already, being shallower). Class 0 never leaves the root. */
    Py_ssize_t head = 0, tail = 0;
    fail[0] = 0;
    link[0] = -1;
    for (Py_ssize_t c = 0; c < classes; c++) {
        int32_t child = delta[c];
        if (child == NONE) {
            delta[c] = 0;
        } else {
            fail[child] = 0;
            link[child] = -1;
            queue[tail++] = child;
        }
    }
    while (head < tail) {
        int32_t state = queue[head++];
        uint16_t *row = &delta[(size_t)state * classes];
        const uint16_t *fail_row = &delta[(size_t)fail[state] * classes];
        for (Py_ssize_t c = 0; c < classes; c++) {
            int32_t child = row[c];
            if (child == NONE) {
                row[c] = fail_row[c];
            } else {
                int32_t f = fail_row[c];
                fail[child] = f;
                link[child] = word[f] >= 0 ? f : link[f];
                queue[tail++] = child;
            }
        }
    }
    PyMem_Free(fail);
    PyMem_Free(queue);
    /* Give back the rows of states that were never created (keys sharing prefixes). */
    uint16_t *shrunk = PyMem_Realloc(delta, sizeof(uint16_t) * (size_t)states * (size_t)classes);
    self->delta = shrunk ? shrunk : delta;
    self->word = word;
    self->link = link;
    self->states = states;
    self->key_length = key_length;
    Py_INCREF(values);
    self->values = values;
    return 0;
}

static int
check_text(DenseAutomaton *self, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "text must be a str");
        return -1;
    }
    if (self->delta == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "DenseAutomaton is not built");
        return -1;
    }
    return 0;
}

/* The scan loop, one copy per storage width of str. ON_MATCH runs with ``state`` ending some key at ``i``. */
#define SCAN_LOOP(TYPE, CONDITION, ON_MATCH)                                              \
    do {                                                                                  \
        const TYPE *chars = (const TYPE *)PyUnicode_DATA(text);                           \
        for (Py_ssize_t i = 0; i < length && (CONDITION); i++) {                          \
            Py_UCS4 ch = chars[i];                                                        \
            int32_t cls = (sizeof(TYPE) < 4 || ch < 0x10000) ? bmp[ch] : class_of(self, ch); \
            state = delta[(size_t)state * classes + cls];                                 \
            if (word[state] >= 0 || link[state] >= 0) {                                   \
                ON_MATCH                                                                  \
            }                                                                             \
        }                                                                                 \
    } while (0)

#define SCAN(CONDITION, ON_MATCH)                                                         \
    do {                                                                                  \
        switch (PyUnicode_KIND(text)) {                                                   \
        case PyUnicode_1BYTE_KIND: SCAN_LOOP(Py_UCS1, CONDITION, ON_MATCH); break;        \
        case PyUnicode_2BYTE_KIND: SCAN_LOOP(Py_UCS2, CONDITION, ON_MATCH); break;        \
        default: SCAN_LOOP(Py_UCS4, CONDITION, ON_MATCH); break;                          \
        }                                                                                 \
    } while (0)

/* With ``offsets`` (one int64 per character of text), each match also carries offsets[first] and offsets[last]
 * of its first and last character. */
static PyObject *
scan(DenseAutomaton *self, PyObject *text, int first_only, const int64_t *offsets)
{
    if (check_text(self, text) < 0)
        return NULL;
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    const Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    const uint16_t *delta = self->delta;
    const int32_t *word = self->word;
    const int32_t *link = self->link;
    const uint16_t *bmp = self->bmp_class;
    const size_t classes = (size_t)self->classes;
    int32_t state = 0;
    int failed = 0, done = 0;
    SCAN(!failed && !done, {
        for (int32_t s = word[state] >= 0 ? state : link[state]; s >= 0; s = link[s]) {
            PyObject *value = PyList_GET_ITEM(self->values, word[s]);
            PyObject *pair = offsets == NULL
                ? Py_BuildValue("(nO)", i, value)
                : Py_BuildValue("(nOLL)", i, value, (long long)offsets[i - self->key_length[word[s]] + 1],
                                (long long)offsets[i]);
            if (pair == NULL || PyList_Append(out, pair) < 0) {
                Py_XDECREF(pair);
                failed = 1;
                break;
            }
            Py_DECREF(pair);
        }
        done = first_only;
    });
    if (failed) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

static PyObject *
DenseAutomaton_findall(DenseAutomaton *self, PyObject *text)
{
    return scan(self, text, 0, NULL);
}

static PyObject *
DenseAutomaton_findall_mapped(DenseAutomaton *self, PyObject *args)
{
    PyObject *text, *offsets;
    if (!PyArg_ParseTuple(args, "UO", &text, &offsets))
        return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(offsets, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return NULL;
    if (view.itemsize != 8 || view.format == NULL || (strcmp(view.format, "q") != 0 && strcmp(view.format, "l") != 0) ||
        view.len != 8 * PyUnicode_GET_LENGTH(text)) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "offsets must hold one int64 per character of text");
        return NULL;
    }
    PyObject *found = scan(self, text, 0, (const int64_t *)view.buf);
    PyBuffer_Release(&view);
    return found;
}

static PyObject *
DenseAutomaton_first(DenseAutomaton *self, PyObject *text)
{
    PyObject *found = scan(self, text, 1, NULL);
    if (found == NULL)
        return NULL;
    if (PyList_GET_SIZE(found) == 0) {
        Py_DECREF(found);
        Py_RETURN_NONE;
    }
    PyObject *pair = PyList_GET_ITEM(found, 0);
    Py_INCREF(pair);
    Py_DECREF(found);
    return pair;
}

/* seen(text) -> bytes: one byte per key, 1 where the key occurs in text (the scan stops once all have). */
static PyObject *
DenseAutomaton_seen(DenseAutomaton *self, PyObject *text)
{
    if (check_text(self, text) < 0)
        return NULL;
    const Py_ssize_t keys = PyList_GET_SIZE(self->values);
    PyObject *out = PyBytes_FromStringAndSize(NULL, keys);
    if (out == NULL)
        return NULL;
    uint8_t *flags = (uint8_t *)PyBytes_AS_STRING(out);
    memset(flags, 0, (size_t)keys);
    Py_ssize_t missing = keys;
    const Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    const uint16_t *delta = self->delta;
    const int32_t *word = self->word;
    const int32_t *link = self->link;
    const uint16_t *bmp = self->bmp_class;
    const size_t classes = (size_t)self->classes;
    int32_t state = 0;
    SCAN(missing > 0, {
        for (int32_t s = word[state] >= 0 ? state : link[state]; s >= 0; s = link[s]) {
            if (!flags[word[s]]) {
                flags[word[s]] = 1;
                missing--;
            }
        }
    });
    return out;
}

static PyObject *
DenseAutomaton_table_bytes(DenseAutomaton *self, void *closure)
{
    return PyLong_FromSize_t(sizeof(uint16_t) * (size_t)self->states * (size_t)self->classes +
                             sizeof(int32_t) * 2 * (size_t)self->states + sizeof(uint16_t) * 0x10000);
}

static PyMethodDef DenseAutomaton_methods[] = {
    {"findall", (PyCFunction)DenseAutomaton_findall, METH_O,
     "findall(text) -> list of (index of the match's last character, value), in order of their ends, longest "
     "key first at one end."},
    {"findall_mapped", (PyCFunction)DenseAutomaton_findall_mapped, METH_VARARGS,
     "findall_mapped(text, offsets) -> list of (last, value, offsets[first], offsets[last]) for every match, as "
     "findall; offsets: a buffer of one int64 per character of text (first: index of the match's first "
     "character)."},
    {"first", (PyCFunction)DenseAutomaton_first, METH_O,
     "first(text) -> the first (index, value) findall would return, or None; stops scanning there."},
    {"seen", (PyCFunction)DenseAutomaton_seen, METH_O,
     "seen(text) -> bytes with one byte per key: 1 where the key occurs in text, else 0."},
    {NULL},
};

static PyGetSetDef DenseAutomaton_getset[] = {
    {"table_bytes", (getter)DenseAutomaton_table_bytes, NULL, "memory held by the tables", NULL},
    {NULL},
};

static PyTypeObject DenseAutomatonType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "keywords._automaton.DenseAutomaton",
    .tp_doc = PyDoc_STR("DenseAutomaton(keys: list[str], values: list): Aho-Corasick with a dense table."),
    .tp_basicsize = sizeof(DenseAutomaton),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)DenseAutomaton_init,
    .tp_dealloc = (destructor)DenseAutomaton_dealloc,
    .tp_methods = DenseAutomaton_methods,
    .tp_getset = DenseAutomaton_getset,
};

static PyObject *
table_size(PyObject *module, PyObject *keys)
{
    /* Upper bound of the bytes a DenseAutomaton of ``keys`` (list of str) would hold, before building it;
     * PY_SSIZE_T_MAX when it would need more than 65,535 states (it cannot be built). */
    if (!PyList_Check(keys)) {
        PyErr_SetString(PyExc_TypeError, "keys must be a list");
        return NULL;
    }
    Py_ssize_t classes, total;
    if (alphabet(keys, &classes, &total, NULL, NULL, NULL) < 0)
        return NULL;
    if (total > MAX_STATES)
        return PyLong_FromSsize_t(PY_SSIZE_T_MAX);
    return PyLong_FromSize_t(sizeof(uint16_t) * (size_t)total * (size_t)classes + sizeof(int32_t) * 2 * (size_t)total +
                             sizeof(uint16_t) * 0x10000);
}

static PyMethodDef module_methods[] = {
    {"table_size", table_size, METH_O,
     "table_size(keys) -> upper bound of the bytes a DenseAutomaton of these keys holds."},
    {NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "keywords._automaton",
    .m_doc = PyDoc_STR("Dense Aho-Corasick automaton over the characters of a str (see keywords.matcher)."),
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__automaton(void)
{
    if (PyType_Ready(&DenseAutomatonType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&DenseAutomatonType);
    if (PyModule_AddObject(m, "DenseAutomaton", (PyObject *)&DenseAutomatonType) < 0) {
        Py_DECREF(&DenseAutomatonType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
