"""Petrel's Python launcher.

The protocol is runtimes/README.md "The action loop": one JSON line per message on stdin, answers on
fd 3, the action's logs on stdout/stderr. Standard library only, and nothing printed on stdout or
stderr but the markers: those streams belong to the action's logs.
"""

import glob
import importlib.util
import json
import linecache
import os
import select
import site
import stat
import sys
import types

MARKER = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX\n'
ANSWER_FD = 3
NOT_A_DICTIONARY = 'The action did not return a dictionary or array.'
# Not '__main__', so that the action's `if __name__ == '__main__':` block (its local test) stays off.
MODULE_NAME = '__petrel_action__'


class InitError(Exception):
    pass


def describe(e):
    try:
        text = str(e)
    except Exception:
        text = ''
    return type(e).__name__ + (': ' + text if text else '')


def env_value(v):
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, separators=(',', ':'))


def to_json(value):
    text = json.dumps(value, ensure_ascii=False, separators=(',', ':'), allow_nan=False)
    try:
        return text.encode('utf-8')
    except UnicodeEncodeError:
        # A lone surrogate has no UTF-8 form; escaped it is still valid JSON.
        return json.dumps(value, ensure_ascii=True, separators=(',', ':'), allow_nan=False).encode('ascii')


class Launcher:
    def __init__(self):
        # The streams as they were before any action code ran: the markers must reach them even
        # if the action replaces sys.stdout.
        self.stdout = sys.stdout
        self.stderr = sys.stderr
        self.state = 'new'
        self.action = None
        self.run_env_keys = []

    def answer(self, data):
        view = memoryview(data + b'\n')
        while view:
            try:
                written = os.write(ANSWER_FD, view)
            except BlockingIOError:
                select.select([], [ANSWER_FD], [])
                continue
            view = view[written:]

    def markers(self):
        for stream in (sys.stdout, sys.stderr, self.stdout, self.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        for stream in (self.stdout, self.stderr):
            try:
                stream.write(MARKER)
                stream.flush()
            except Exception:
                pass

    def init(self, message):
        if self.state != 'new':
            self.answer(to_json({'error': 'Cannot initialize the action more than once.'}))
            return
        self.state = 'initializing'
        try:
            self.action = self.load(message if isinstance(message, dict) else {})
        except InitError as e:
            self.state = 'failed'
            self.answer(to_json({'error': str(e)}))
        except BaseException as e:
            self.state = 'failed'
            self.answer(to_json({'error': 'Initialization has failed due to: ' + describe(e)}))
        else:
            self.state = 'ready'
            self.answer(b'{"ok":true}')

    def load(self, init):
        main = init.get('main')
        main = main.strip() if isinstance(main, str) and main.strip() else 'main'
        env = init.get('env')
        if isinstance(env, dict):
            for k, v in env.items():
                if v is not None:
                    os.environ[str(k)] = env_value(v)
        code, path = init.get('code'), init.get('path')
        if isinstance(code, str) and code:
            module = self.load_code(code)
        elif isinstance(path, str) and path:
            module = self.load_archive(os.path.abspath(path))
        else:
            raise InitError('Missing main/no code to execute.')
        fn = getattr(module, main, None)
        if not callable(fn):
            raise InitError('The action has no function named "%s".' % main)
        return fn

    def load_code(self, code):
        filename = os.path.join(os.getcwd(), 'action.py')
        module = types.ModuleType(MODULE_NAME)
        module.__file__ = filename
        # dataclasses, pickle and typing look classes' modules up in sys.modules.
        sys.modules[MODULE_NAME] = module
        # So that a traceback the action formats itself shows its source lines.
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        exec(compile(code, filename, 'exec'), module.__dict__)
        return module

    def load_archive(self, root):
        main_file = os.path.join(root, '__main__.py')
        if not os.path.isfile(main_file):
            raise InitError('The archive has no __main__.py.')
        sys.path.insert(0, root)
        self.activate_virtualenv(os.path.join(root, 'virtualenv'))
        spec = importlib.util.spec_from_file_location(MODULE_NAME, main_file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[MODULE_NAME] = module
        spec.loader.exec_module(module)
        return module

    @staticmethod
    def activate_virtualenv(venv):
        if not os.path.isdir(venv):
            return
        own = 'python%d.%d' % sys.version_info[:2]
        found = sorted(glob.glob(os.path.join(venv, 'lib', 'python3*', 'site-packages')),
                       key=lambda p: os.path.basename(os.path.dirname(p)) != own)
        for packages in found[:1]:
            before = list(sys.path)
            # addsitedir also honours the .pth files pip leaves there; it appends, so the
            # archive's packages are then moved ahead of the interpreter's own.
            site.addsitedir(packages)
            added = [p for p in sys.path if p not in before]
            rest = [p for p in sys.path if p in before]
            sys.path[:] = rest[:1] + added + rest[1:]

    def run(self, message):
        activation_id = message.get('activation_id')
        if activation_id is not None and not isinstance(activation_id, str):
            activation_id = str(activation_id)
        prefix = b'{"id":' + to_json(activation_id)
        if self.state != 'ready':
            error = 'The action failed to initialize.' if self.state == 'failed' else 'The action was not initialized.'
            line = prefix + b',"error":' + to_json(error) + b'}'
        else:
            for k in self.run_env_keys:
                os.environ.pop(k, None)
            self.run_env_keys = []
            for k, v in message.items():
                if k != 'value' and v is not None:
                    name = '__OW_' + k.upper()
                    os.environ[name] = env_value(v)
                    self.run_env_keys.append(name)
            line = prefix + self.call(message.get('value', {})) + b'}'
        self.answer(line)
        self.markers()

    def call(self, value):
        try:
            result = self.action(value)
        except BaseException as e:
            # BaseException: sys.exit() or KeyboardInterrupt in an action must not end the launcher.
            return b',"error":' + to_json('An error has occurred: ' + describe(e))
        if not isinstance(result, (dict, list)):
            return b',"error":' + to_json(NOT_A_DICTIONARY)
        try:
            return b',"result":' + to_json(result)
        except BaseException as e:
            return b',"error":' + to_json('An error has occurred: ' + describe(e))

    def serve(self, stdin):
        while True:
            line = stdin.readline()
            if not line:
                return
            if not line.strip():
                continue
            try:
                message = json.loads(line.decode('utf-8', 'replace'))
            except ValueError as e:
                self.answer(to_json({'error': 'Malformed message: ' + str(e)}))
                continue
            if isinstance(message, dict) and 'init' in message:
                self.init(message['init'])
            elif isinstance(message, dict) and isinstance(message.get('run'), dict):
                self.run(message['run'])
            else:
                self.answer(to_json({'error': 'Malformed message: neither init nor run.'}))


def answer_channel_ok():
    # fd 3 must be the container's pipe, FIFO or socket (or /dev/null). Without one, fd 3 is some
    # file of the process itself, and writing answers into it would corrupt it.
    try:
        mode = os.fstat(ANSWER_FD).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)


def main():
    if not answer_channel_ok():
        os._exit(2)
    # Python put the launcher's own folder first on sys.path; the action must not import from it.
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or os.curdir) == here:
        del sys.path[0]
    launcher = Launcher()
    try:
        launcher.serve(sys.stdin.buffer)
    except OSError:
        # The answer channel is gone: nobody is listening any more.
        os._exit(1)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    # os._exit: threads the action left behind must not keep the container alive after EOF.
    os._exit(0)


if __name__ == '__main__':
    main()
