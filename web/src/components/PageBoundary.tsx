import { Component, type ReactNode } from "react";
import { Alert, Button } from "antd";

/** A page that throws while rendering or in an effect shows what broke, in place of the page,
 * instead of React unmounting the whole console to a blank screen. Reset when the route changes. */
export default class PageBoundary extends Component<{ children: ReactNode; title: string; retry: string; route: string }, { error?: Error; route?: string }> {
  state: { error?: Error; route?: string } = {};

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  static getDerivedStateFromProps(props: { route: string }, state: { error?: Error; route?: string }) {
    return props.route !== state.route ? { route: props.route, error: undefined } : null;
  }

  render() {
    if (!this.state.error) return this.props.children;
    return (
      <Alert
        type="error"
        showIcon
        data-testid="page-error"
        title={this.props.title}
        description={this.state.error.message}
        action={<Button onClick={() => this.setState({ error: undefined })}>{this.props.retry}</Button>}
      />
    );
  }
}
